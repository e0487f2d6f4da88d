"""Compiling what enrols a contact in a campaign (`trigger`) and what ends the enrolment (`[campaign.exit]`)."""

from __future__ import annotations

from typing import Any

from inboxcrm.core.campaigns.checking import CampaignChecker, shown_value
from inboxcrm.core.campaigns.model import EXIT_KEYS, TRIGGER_KINDS, Exits, Trigger
from inboxcrm.core.tomlfile import Loc, suggest

_VALUE_TRIGGERS = ("tag", "stage", "score", "segment")


class TriggerCompiler(CampaignChecker):
    """Compiles `trigger` and `exit`."""

    def trigger(self, value: Any, loc: Loc) -> Trigger | None:
        shapes = (
            'trigger = { tag = "trial" }, { stage = "lead" }, { score = 30 }, { segment = "…" }, "rule" or "manual"'
        )
        if isinstance(value, str):
            kind = value.strip()
            if kind in ("rule", "manual"):
                return Trigger(kind)
            if kind in _VALUE_TRIGGERS:
                self.problem(loc, f"trigger {kind!r} needs a value", f"write trigger = {{ {kind} = … }}")
            else:
                self.problem(loc, f"unknown trigger {value!r}", suggest(kind, TRIGGER_KINDS))
            return None
        if not isinstance(value, dict):
            self.problem(loc, f"`trigger` must be a table or text, got {shown_value(value)}", shapes)
            return None
        for key in value:
            if key not in _VALUE_TRIGGERS:
                hint = f'write trigger = "{key}"' if key in ("rule", "manual") else suggest(key, _VALUE_TRIGGERS)
                self.problem((*loc, key), f"unknown trigger {key!r}", hint)
        kinds = [key for key in value if key in _VALUE_TRIGGERS]
        if len(value) != 1:
            if not value:
                self.problem(loc, "the trigger is empty", shapes)
            elif len(kinds) > 1:
                self.problem(
                    loc,
                    f"a trigger is exactly one kind, got {' and '.join(kinds)}",
                    "use a segment that combines them, or make one campaign per trigger",
                )
            return None
        if not kinds:
            return None
        kind = kinds[0]
        spec = value[kind]
        where = (*loc, kind)
        if kind == "score":
            if isinstance(spec, bool) or not isinstance(spec, int | float):
                self.problem(where, f"`score` must be a number, got {shown_value(spec)}", "trigger = { score = 30 }")
                return None
            return Trigger("score", float(spec))
        if not isinstance(spec, str) or not spec.strip():
            self.problem(where, f"`{kind}` must be text, got {shown_value(spec)}", f'trigger = {{ {kind} = "…" }}')
            return None
        name = spec.strip()
        if kind == "stage":
            found = self.known(name, where, self.vocabulary.stages, "stage")
            return None if found is None else Trigger("stage", found)
        if kind == "segment":
            found = self.known(name, where, self.vocabulary.segments, "segment")
            return None if found is None else Trigger("segment", found)
        return Trigger("tag", name)

    def trigger_is_exit(self, trigger: Trigger, exits: Exits, loc: Loc) -> None:
        # A contact who enrols would leave at once: certainly a mistake.
        if trigger.kind == "tag" and trigger.value in exits.tags:
            self.problem(loc, f"tag {trigger.value!r} both enrols and ends the campaign", "remove it from exit.tags")
        elif trigger.kind == "stage" and trigger.value in exits.stages:
            self.problem(
                loc,
                f"reaching stage {trigger.value!r} both enrols and ends the campaign",
                "exit.stages ends the campaign at the stages listed and every later one",
            )

    def exits(self, value: Any, loc: Loc) -> Exits | None:
        if not isinstance(value, dict):
            self.problem(loc, f"`exit` must be a table, got {shown_value(value)}", "write [campaign.exit]")
            return None
        before = len(self.problems)
        for key in value:
            if key in ("unsubscribe", "unsubscribed", "bounce", "bounced", "complaint", "complained"):
                self.problem(
                    (*loc, key),
                    f"`{key}` cannot be configured",
                    "unsubscribes, bounces and complaints always end a campaign",
                )
            elif key not in EXIT_KEYS:
                self.problem((*loc, key), f"unknown exit {key!r}", suggest(key, EXIT_KEYS))
        reply = self.flag(value, "reply", loc, default=True)
        ticket = self.flag(value, "ticket", loc, default=True)
        tags: frozenset[str] = frozenset()
        if "tags" in value:
            items = self.strings(value["tags"], (*loc, "tags"), "a tag")
            tags = frozenset(item for item, _ in items or [])
        stages: set[str] = set()
        if "stages" in value:
            order = self.vocabulary.stages
            for item, where in self.strings(value["stages"], (*loc, "stages"), "a stage") or []:
                found = self.known(item, where, order, "stage")
                if found is not None:
                    stages.update(order[order.index(found) :])
        if len(self.problems) > before or reply is None or ticket is None:
            return None
        return Exits(reply, ticket, tags, frozenset(stages))
