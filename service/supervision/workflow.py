"""The supervision order's life as data: one table of allowed transitions, one check (409 otherwise).

issued → answered (the unit) → accepted (the issuer side) → closed, or → returned (not good enough; the unit
answers again, by a new due time if one is given). The issuer side may close an order in any open state.
"""

from __future__ import annotations

import enum

from tenants import transitions


class State(enum.StrEnum):
    issued = "issued"
    answered = "answered"
    accepted = "accepted"
    returned = "returned"
    closed = "closed"


class Action(enum.StrEnum):
    answer = "answer"
    accept = "accept"
    return_ = "return"
    close = "close"


S, A = State, Action

TRANSITIONS: dict[tuple[State, Action], State] = {
    (S.issued, A.answer): S.answered,
    (S.returned, A.answer): S.answered,
    (S.answered, A.accept): S.accepted,
    (S.answered, A.return_): S.returned,
    (S.issued, A.close): S.closed,
    (S.returned, A.close): S.closed,
    (S.answered, A.close): S.closed,
    (S.accepted, A.close): S.closed,
}
# Orders the unit still owes an answer on: the ones the periodic scan flags when their due time passed.
AWAITING = frozenset({S.issued, S.returned})
# The action the answering unit takes; every other action is the issuer side's.
UNIT_ACTIONS = frozenset({A.answer})


def transition(state: State | str, action: Action | str) -> State:
    """The next state, or ``Conflict`` (409) naming the state and the actions it allows."""
    return transitions.step(TRANSITIONS, State(state), Action(action), note=" / 督办单当前状态不允许该操作")


def allowed_actions(state: State | str) -> list[str]:
    return transitions.allowed(TRANSITIONS, State(state))
