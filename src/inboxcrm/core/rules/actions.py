"""Compiling actions: `then = { queue, priority, assign, add_tags, remove_tags, stage, score, open_ticket,
ignore, enrol, auto_reply, deal, stop }` → `Effect`s, names checked against the `Vocabulary`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, shown_value
from inboxcrm.core.rules.model import Action, Deal, Effect
from inboxcrm.core.rules.vocabulary import ACTIONS, CONDITIONS, ROUND_ROBIN
from inboxcrm.core.tomlfile import Loc, suggest


class ActionCompiler(RuleChecker):
    """Compiles `then`: the actions of a rule."""

    def effects(self, then: Mapping[str, Any], loc: Loc, rule: str) -> list[Effect]:
        effects: list[Effect] = []
        vocabulary = self.vocabulary
        if not then:
            self.problem(loc, f"rule {rule!r} has no actions", "add at least one action under `then`")
        for key, value in then.items():
            where = (*loc, key)
            if key in ("queue", "priority", "assign", "stage"):
                known: dict[str, Iterable[str]] = {
                    "queue": vocabulary.queues,
                    "priority": vocabulary.priorities,
                    "assign": (*sorted(vocabulary.agents), ROUND_ROBIN),
                    "stage": vocabulary.stages,
                }
                what = {"queue": "queue", "priority": "priority", "assign": "agent", "stage": "stage"}[key]
                if not isinstance(value, str) or not value.strip():
                    self.problem(where, f"`{key}` takes one {what} name, got {shown_value(value)}", f'e.g. {key} = "…"')
                    continue
                if not self.known([(value.strip(), where)], known[key], what):
                    continue
                action = {
                    "queue": Action.SET_QUEUE,
                    "priority": Action.SET_PRIORITY,
                    "assign": Action.ASSIGN,
                    "stage": Action.SET_STAGE,
                }[key]
                effects.append(Effect(action, target=self.canonical(value.strip(), known[key])))
            elif key in ("add_tags", "remove_tags"):
                items = self.strings(value, where, "a tag")
                action = Action.ADD_TAG if key == "add_tags" else Action.REMOVE_TAG
                effects.extend(Effect(action, target=item) for item, _ in items or [])
            elif key in ("enrol", "auto_reply"):
                what = "campaign" if key == "enrol" else "template"
                pool = vocabulary.campaigns if key == "enrol" else vocabulary.templates
                items = self.strings(value, where, f"a {what}")
                if items is None or not self.known(items, pool, what):
                    continue
                action = Action.ENROL if key == "enrol" else Action.AUTO_REPLY
                effects.extend(Effect(action, target=self.canonical(item, pool)) for item, _ in items)
            elif key == "score":
                effect = self.score(value, where, rule)
                if effect is not None:
                    effects.append(effect)
            elif key in ("open_ticket", "ignore", "stop"):
                if not isinstance(value, bool):
                    self.problem(
                        where, f"`{key}` must be true or false, got {shown_value(value)}", f"write {key} = true"
                    )
                    continue
                if key == "stop":
                    if value:
                        effects.append(Effect(Action.STOP))
                else:
                    effects.append(Effect(Action.OPEN_TICKET if key == "open_ticket" else Action.IGNORE, flag=value))
            elif key == "deal":
                deal = self.deal(value, where)
                if deal is not None:
                    effects.append(Effect(Action.DEAL, target=deal.name, deal=deal))
            else:
                hint = f"{key!r} is a condition: put it under `when`" if key in CONDITIONS else suggest(key, ACTIONS)
                self.problem(where, f"unknown action {key!r}", hint)
        # `stop` is applied after the rule's other actions, wherever it is written.
        effects.sort(key=lambda e: e.action is Action.STOP)
        return effects

    @staticmethod
    def canonical(name: str, known: Iterable[str]) -> str:
        """The vocabulary's spelling of `name` (names are matched ignoring case)."""
        for candidate in known:
            if candidate.lower() == name.lower():
                return candidate
        return name

    def score(self, value: Any, loc: Loc, rule: str) -> Effect | None:
        reason = rule
        if isinstance(value, dict):
            for key in value:
                if key not in ("points", "reason"):
                    self.problem((*loc, key), f"unknown key {key!r} in `score`", suggest(key, ("points", "reason")))
                    return None
            if "points" not in value:
                self.problem(loc, "`score` needs `points`", 'score = { points = 10, reason = "…" }')
                return None
            reason = value.get("reason", rule)
            if not isinstance(reason, str) or not reason.strip():
                self.problem(
                    (*loc, "reason"), f"`reason` must be text, got {shown_value(reason)}", 'reason = "asked for a demo"'
                )
                return None
            loc, value = (*loc, "points"), value["points"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(
                loc, f"score points must be a number, got {shown_value(value)}", "e.g. score = 10 or score = -5"
            )
            return None
        return Effect(Action.ADD_SCORE, points=float(value), reason=reason.strip())

    def deal(self, value: Any, loc: Loc) -> Deal | None:
        if not isinstance(value, dict):
            self.problem(
                loc,
                f"`deal` takes a table, got {shown_value(value)}",
                'deal = { name = "…", value = 1000, stage = "…" }',
            )
            return None
        ok = True
        for key in value:
            if key not in ("name", "value", "stage"):
                self.problem((*loc, key), f"unknown key {key!r} in `deal`", suggest(key, ("name", "value", "stage")))
                ok = False
        name = value.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem((*loc, "name") if "name" in value else loc, "a deal needs a `name`", 'name = "Acme renewal"')
            ok = False
        amount = value.get("value")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0):
            self.problem(
                (*loc, "value"), f"a deal's value must be a number ≥ 0, got {shown_value(amount)}", "value = 12000"
            )
            ok = False
        stage = value.get("stage")
        if stage is not None:
            if not isinstance(stage, str):
                self.problem(
                    (*loc, "stage"), f"a deal stage must be text, got {shown_value(stage)}", "put it in quotes"
                )
                ok = False
            elif not self.known([(stage, (*loc, "stage"))], self.vocabulary.deal_stages, "deal stage"):
                ok = False
        if not ok or not isinstance(name, str):
            return None
        stage_name = self.canonical(stage, self.vocabulary.deal_stages) if isinstance(stage, str) else None
        return Deal(name.strip(), float(amount) if amount is not None else None, stage_name)
