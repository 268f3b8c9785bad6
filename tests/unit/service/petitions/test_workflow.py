import itertools

import pytest

from service.petitions.workflow import CLOSED_STATES, TRANSITIONS, Action, State, allowed_actions, transition
from tenants.errors import Conflict

ALL_PAIRS = list(itertools.product(State, Action))


@pytest.mark.parametrize(("state", "action"), list(TRANSITIONS))
def test_every_allowed_transition_gives_its_next_state(state, action):
    assert transition(state, action) is TRANSITIONS[(state, action)]


@pytest.mark.parametrize(("state", "action"), [p for p in ALL_PAIRS if p not in TRANSITIONS])
def test_every_other_pair_is_refused_with_409(state, action):
    with pytest.raises(Conflict) as err:
        transition(state, action)
    assert err.value.status == 409
    assert err.value.code == "transition-refused"
    assert err.value.extra["allowed"] == allowed_actions(state)


def test_the_happy_path_of_the_regulation():
    state = State.received
    for action in ["accept", "assign", "start", "transfer", "start", "extend", "reply", "request_review"]:
        state = transition(state, action)
    state = transition(state, "answer_review")
    state = transition(state, "request_rereview")
    assert transition(state, "answer_rereview") is State.final


def test_final_is_final():
    assert allowed_actions(State.final) == ["rate"]
    assert State.final in CLOSED_STATES


def test_every_state_is_reachable_from_received():
    seen, frontier = {State.received}, [State.received]
    while frontier:
        s = frontier.pop()
        for (src, _), dst in TRANSITIONS.items():
            if src == s and dst not in seen:
                seen.add(dst)
                frontier.append(dst)
    assert seen == set(State)
