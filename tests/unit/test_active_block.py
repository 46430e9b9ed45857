"""Active blocking, the parts without Asterisk: the setting, its placeholder, the event."""

from datetime import UTC, datetime

import pytest

from orchestrator.asterisk.runtime import REPO_CONF_DIR, AsteriskRuntime
from orchestrator.live import events as ev
from orchestrator.settings import load_settings

ENV = {"SVC_AMI_SECRET": "x", "SVC_ARI_SECRET": "y", "SVC_STATE_DIR": "/tmp/svc-unit"}


def test_code_is_configurable_and_rendered_into_features_conf() -> None:
    settings = load_settings({**ENV, "SVC_ACTIVE_BLOCK_CODE": "#77"})
    rt = AsteriskRuntime(settings)
    text = rt._fill((REPO_CONF_DIR / "features.conf").read_text(), rt.placeholders(), "features.conf")
    assert "svcblock => #77,self,Gosub(svc-activeblock,s,1)" in text
    assert settings.active_block_code == "#77" and load_settings(ENV).active_block_code == "*9"


@pytest.mark.parametrize("bad", ["", "*9,x", "12345678901234", "*9;"])
def test_code_outside_the_keypad_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="SVC_ACTIVE_BLOCK_CODE"):
        load_settings({**ENV, "SVC_ACTIVE_BLOCK_CODE": bad})


def test_event_from_the_answering_channel_belongs_to_the_call() -> None:
    msg = {"Event": "UserEvent", "UserEvent": "SvcActiveBlock", "Uniqueid": "2.1", "Linkedid": "2.0",
           "Channel": "PJSIP/carrier-2", "Number": "+318000000301", "Caller": "+31201110001"}
    event = ev.parse(msg, datetime.now(UTC))
    assert isinstance(event, ev.ActiveBlock)
    assert (event.call_id, event.number, event.caller) == ("2.0", "+318000000301", "+31201110001")
