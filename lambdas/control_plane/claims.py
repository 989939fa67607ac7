"""Once-only work and live re-evaluation chains, over the state table, failing open.

Alarm events and SQS records may be delivered more than once; ``once`` claims an event id so
that one delivery does the work. A chain of re-evaluations belongs to the alarm transition that
started it; ``start_chain`` makes a transition's chain the live one and ``superseded_by`` tells a
queued message of an older chain to stop. When the table cannot be read, both let the work go
ahead: a repeated decision is harmless (``decide`` and the cooldowns see to it), a lost one is
not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import aws, contract
from .events import Reevaluation
from .observability import logger
from .settings import Settings
from .state import StateStore, StateUnavailable


def open_store(cfg: Settings) -> StateStore:
    """The state table's rows of this function's endpoint."""
    return StateStore(aws.dynamodb(), cfg.table_name, cfg.endpoint, cfg.history_ttl_days)


@contextmanager
def once(store: StateStore, event_id: str | None, now: float) -> Iterator[bool]:
    """Claim ``event_id`` for this delivery; yields False for a duplicate (do nothing).

    The claim is marked done when the block ends, and released when it raises, so that the
    retry does the work this attempt did not. ``None`` (or a table that cannot be read):
    nothing to claim, the work goes ahead.
    """
    claimed = _claim(store, event_id, now) if event_id else None
    if claimed is False:
        yield False
        return
    try:
        yield True
    except Exception:
        if claimed and event_id:
            _release(store, event_id)
        raise
    if claimed and event_id:
        _finish(store, event_id)


def _claim(store: StateStore, event_id: str, now: float) -> bool | None:
    """True: first delivery; False: duplicate; None: cannot tell (table unavailable)."""
    try:
        return store.claim_event(event_id, now, contract.SCALER_TIMEOUT_S)
    except StateUnavailable as exc:
        logger.warning("idempotency claim unavailable: acting anyway", extra={"error": str(exc)})
        return None


def _finish(store: StateStore, event_id: str) -> None:
    try:
        store.finish_event(event_id)
    except StateUnavailable:
        # The claim stays in progress and expires after the function timeout: a redelivery
        # then repeats a decision, which decide() and the cooldowns make harmless.
        logger.warning("could not mark idempotency claim done", extra={"event_id": event_id})


def _release(store: StateStore, event_id: str) -> None:
    try:
        store.release_event(event_id)
    except StateUnavailable:
        logger.warning("could not release idempotency claim", extra={"event_id": event_id})


def start_chain(store: StateStore, component: str, trigger: str, chain_id: str) -> str:
    """Make ``chain_id`` the live chain of (component, trigger): a chain still queued from
    before an ALARM → OK → ALARM flap is dropped when it comes due, instead of running
    alongside. Returns ``chain_id``."""
    try:
        store.start_chain(component, trigger, chain_id)
    except StateUnavailable as exc:
        logger.warning("could not record the re-evaluation chain", extra={"error": str(exc)})
    return chain_id


def superseded_by(store: StateStore, message: Reevaluation) -> str | None:
    """The newer chain that supersedes ``message``'s, or ``None`` when it may go on (it is the
    live one, it predates chain ids, or the table cannot tell: fail open)."""
    if not message.chain_id:
        return None
    try:
        live = store.live_chain(message.component, message.trigger.value)
    except StateUnavailable:
        return None
    return live if live is not None and live != message.chain_id else None
