"""The Idempotency-Key check: 8 to 200 visible ASCII characters, and nothing after them (found by fuzzing: a
pattern ending in `$` let a trailing newline through in Python while the OpenAPI document's regex refused it)."""

import pytest

from tenants.errors import Invalid
from tenants.idempotency import KEY_PATTERN, check_key


@pytest.mark.parametrize("key", ["abcdefgh", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "!" * 200, "~" * 8])
def test_visible_ascii_keys_of_8_to_200_characters_pass(key):
    check_key(key)


@pytest.mark.parametrize("key", ["abcdefg", "a" * 201, "abcdefgh\n", "abcd efgh", "钥匙钥匙钥匙钥匙", "abcdefgh\t"])
def test_other_keys_are_refused(key):
    with pytest.raises(Invalid):
        check_key(key)


def test_the_pattern_reads_alike_in_python_and_in_the_document():
    # the OpenAPI document carries this very pattern (ECMA-262): no Python-only syntax
    assert "\\Z" not in KEY_PATTERN.pattern and "$" not in KEY_PATTERN.pattern
