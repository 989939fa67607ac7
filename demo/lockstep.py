"""Several simulator runs advanced together, paused at the same simulated moments.

``sim.simulator.EndpointSimulation`` simulates the inference components of one endpoint on its
shared instances and drives its own loop. The demo needs every endpoint to live in one shared
simulated time, because they all talk to the same embedded AWS whose clock is that time. Each
simulation runs in its own thread; its components' policy (``Follower``) waits at a barrier once
every 10 s tick, and ``at(t)`` puts a sync point at
``t`` into every simulation, so that all of them stop at exactly ``t`` (an SQS message due 15 s
after a decision is delivered 15 s after it, not at the next tick). While all are stopped, one
thread runs the demo's action for that moment; the simulations only move on when it returns.

Threads here are a way to pause loops that were written to run to the end, not parallelism: at
most one of them runs at a time outside the barrier, and all wait inside it during the action.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.protocol import ComponentView
    from sim.simulator import EndpointSimulation

Action = Callable[[float, bool], None]  # (simulated seconds, is this a 10 s tick)


class Lockstep:
    """Runs ``sims`` to their end in lockstep, calling ``action`` at every shared moment."""

    def __init__(self, action: Action) -> None:
        self._action = action
        self._sims: dict[str, EndpointSimulation] = {}
        self._barrier: threading.Barrier | None = None
        self._kind_tick = False
        self._sync_times: set[float] = set()
        self.error: BaseException | None = None
        self.now_s = 0.0

    def follower(self, key: str) -> Follower:
        """The policy to give every component of the simulation registered under ``key``."""
        return Follower(self, key)

    def add(self, key: str, sim: EndpointSimulation) -> None:
        self._sims[key] = sim

    @property
    def sims(self) -> Mapping[str, EndpointSimulation]:
        return self._sims

    def at(self, t_s: float) -> None:
        """Stop every simulation at ``t_s`` (later than now) and run the action there.

        Call only from inside the action, while every simulation is paused.
        """
        if t_s <= self.now_s or t_s in self._sync_times:
            return
        self._sync_times.add(t_s)
        for sim in self._sims.values():
            sim.schedule(t_s, self._sync)

    def run(self) -> None:
        """Run every simulation to its end; re-raise the first error any of them hit."""
        self._barrier = threading.Barrier(len(self._sims), action=self._run_action)
        threads = [
            threading.Thread(target=self._thread, args=(sim,), name=f"sim-{key}", daemon=True)
            for key, sim in self._sims.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.error is not None:
            raise self.error

    # --- inside the simulation threads ---------------------------------------------------
    def _thread(self, sim: EndpointSimulation) -> None:
        try:
            sim.run()
        except threading.BrokenBarrierError:
            pass  # another thread failed; its error is in self.error
        except BaseException as exc:
            if self.error is None:
                self.error = exc
            assert self._barrier is not None
            self._barrier.abort()

    def _wait(self, tick: bool) -> None:
        assert self._barrier is not None
        self._kind_tick = tick  # every thread writes the same value: they are at the same point
        self._barrier.wait()

    def _sync(self) -> None:
        self._wait(False)

    def _run_action(self) -> None:
        sim = next(iter(self._sims.values()))
        self.now_s = sim.now
        self._sync_times.discard(self.now_s)
        try:
            self._action(self.now_s, self._kind_tick)
        except BaseException as exc:
            if self.error is None:
                self.error = exc
            raise


class Follower:
    """A ``sim.policies.Policy`` that decides nothing: the real scaler decides, through moto.

    Caches as the project deploys them: container caching (automatic) and data caching
    (``DataCacheConfig.EnableCaching`` on every inference component).
    """

    name = "project (real handlers on moto)"
    container_cache = True
    data_cache = True

    def __init__(self, lockstep: Lockstep, key: str) -> None:
        self._lockstep = lockstep
        self.key = key
        self._waited_at: float | None = None  # the tick it last waited at

    def on_tick(self, view: ComponentView) -> None:
        """Wait at the barrier once per tick of its simulation, whichever component comes
        first: every component's datapoints of the tick are recorded by then."""
        if view.now != self._waited_at:
            self._waited_at = view.now
            self._lockstep._wait(True)

    def attach(self, view: ComponentView) -> None:
        """Nothing to prepare: the lockstep owns the simulation."""
