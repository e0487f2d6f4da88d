"""Reading a reply: what the sender wrote, what they quoted, their signature, a forwarded block.

Pure functions over strings (core); imports only the standard library and sibling modules here.
"""

from inboxcrm.core.quotes.split import BodyParts, split_html, split_text

__all__ = ["BodyParts", "split_html", "split_text"]
