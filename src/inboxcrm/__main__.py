from inboxcrm.cli import main

main()
