"""link.js copies a few constants of the server (the protocol version, the close codes after
which it stops for good, the relayed messages): the copies are checked here, read from the
JavaScript source, so a close code added to the consumer cannot be missed by the client."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cartable.live import consumers, protocol

LINK_JS = Path(consumers.__file__).parent / "static" / "live" / "link.js"
# Closes after which link.js reconnects: a hello that came too late, the layer lost.
RETRIED = {consumers.CLOSE_HELLO_TIMEOUT, consumers.CLOSE_TRY_AGAIN}


def js_constant(name: str):
    """The value of ``const NAME = <literal>;`` in link.js (numbers, arrays, new Set([...]))."""
    source = LINK_JS.read_text(encoding="utf-8")
    found = re.search(rf"const {name} = (.+?);", source, re.DOTALL)
    assert found, f"{name} not found in link.js"
    value = found.group(1).strip()
    value = re.sub(r"^new Set\((.*)\)$", r"\1", value, flags=re.DOTALL)
    return ast.literal_eval(re.sub(r"(?<=\d)_(?=\d)", "", value))  # 2_500_000


def consumer_close_codes() -> set[int]:
    return {value for name, value in vars(consumers).items() if name.startswith("CLOSE_")}


def test_the_protocol_version_is_the_servers():
    assert js_constant("PROTOCOL_VERSION") == protocol.PROTOCOL_VERSION


def test_final_closes_are_every_close_of_the_consumer_but_the_retried_ones():
    assert set(js_constant("FINAL_CLOSES")) == {1000} | (consumer_close_codes() - RETRIED)


def test_try_again_is_the_consumers():
    assert js_constant("TRY_AGAIN") == consumers.CLOSE_TRY_AGAIN


def test_relayed_messages_are_the_servers():
    # link.js handles media itself; every other relayed message a page can receive is
    # dispatched as an event. kit_mask goes only to the kit's agent (cartable_kit), and the
    # pages also hear the server's own kit_presence ("Kit mode") and work (schoolwork).
    pages_receive = set(protocol.RELAYED) - {"media", "kit_mask"} | {"kit_presence", "work"}
    assert set(js_constant("RELAYED")) == pages_receive
