"""The case workflow of the petition regulation as data: one table of allowed transitions, one check.

A state not listed for an action means the action is refused (409). Conditions that depend on the case rather
than on its state (an extension only once, a review only inside its window) are checked by the services.
"""

from __future__ import annotations

import enum

from tenants import transitions


class State(enum.StrEnum):
    received = "received"
    accepted = "accepted"
    not_accepted = "not_accepted"
    assigned = "assigned"
    in_progress = "in_progress"
    transferred = "transferred"
    replied = "replied"
    closed = "closed"
    review_requested = "review_requested"
    reviewed = "reviewed"
    rereview_requested = "rereview_requested"
    final = "final"


class Action(enum.StrEnum):
    accept = "accept"
    not_accept = "not_accept"
    assign = "assign"
    start = "start"
    transfer = "transfer"
    object_transfer = "object_transfer"
    extend = "extend"
    reply = "reply"
    close = "close"
    rate = "rate"
    request_review = "request_review"
    answer_review = "answer_review"
    request_rereview = "request_rereview"
    answer_rereview = "answer_rereview"


S, A = State, Action

# (state, action) -> next state. The whole regulation (arts. 22-36) in one place.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (S.received, A.accept): S.accepted,
    (S.received, A.not_accept): S.not_accepted,
    (S.accepted, A.assign): S.assigned,
    (S.assigned, A.start): S.in_progress,
    (S.assigned, A.transfer): S.transferred,
    (S.in_progress, A.transfer): S.transferred,
    (S.in_progress, A.extend): S.in_progress,
    (S.in_progress, A.reply): S.replied,
    # The receiving unit either takes the case up (start) or objects within 5 working days (back to the sender).
    (S.transferred, A.start): S.in_progress,
    (S.transferred, A.object_transfer): S.assigned,
    (S.replied, A.rate): S.replied,
    (S.replied, A.close): S.closed,
    (S.replied, A.request_review): S.review_requested,
    (S.closed, A.rate): S.closed,
    (S.closed, A.request_review): S.review_requested,
    (S.review_requested, A.answer_review): S.reviewed,
    (S.reviewed, A.rate): S.reviewed,
    (S.reviewed, A.request_rereview): S.rereview_requested,
    (S.rereview_requested, A.answer_rereview): S.final,
    (S.final, A.rate): S.final,
}

# Open311 maps every state to open/closed; a case is open while someone still has to act on it.
CLOSED_STATES = frozenset({S.not_accepted, S.closed, S.reviewed, S.final})
# Actions the petitioner takes (by account or lookup code); the others are staff actions.
PETITIONER_ACTIONS = frozenset({A.rate, A.request_review, A.request_rereview})


def transition(state: State | str, action: Action | str) -> State:
    """The next state, or ``Conflict`` (409) naming the state and the actions it allows."""
    return transitions.step(TRANSITIONS, State(state), Action(action))


def allowed_actions(state: State | str) -> list[str]:
    return transitions.allowed(TRANSITIONS, State(state))
