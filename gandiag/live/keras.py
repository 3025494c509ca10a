"""``gandiag.GanDiagnostics``: gandiag's rules as a Keras 3 callback.

For GANs trained with ``model.fit`` and a custom ``train_step`` (the Keras
DCGAN example's style: the logs carry ``d_loss`` and ``g_loss``). After every
batch the callback logs the row to ``history.csv`` (through
:class:`gandiag.live.runlog.RunLogger`, when ``out_dir`` is given) and feeds a
:class:`gandiag.live.monitor.Monitor`; on a confirmed failure it warns, stops the
fit (``model.stop_training``) or calls your hook, for example to restore the
last healthy checkpoint and lower the learning rate.

Keras is imported when ``GanDiagnostics`` is first used, not when gandiag is
imported, and nothing on the per-batch path reads files or imports the
analysis reporters: a batch costs a dict walk, a CSV line and
``Monitor.update`` (see ``benchmarks/monitor_speed.py``).

>>> from gandiag import GanDiagnostics               # doctest: +SKIP
>>> gan.fit(data, epochs=20, callbacks=[GanDiagnostics("runs/dcgan", planned_steps=20 * steps_per_epoch)])  # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from gandiag.errors import UsageError
from gandiag.live.monitor import Monitor, MonitorState

#: ``action`` values: what to do when a failure is confirmed.
ACTIONS = ("stop", "warn")

Hook = Callable[[MonitorState, Any], None]


class _Diagnostics:
    """The callback's logic, independent of Keras (so it is testable without TensorFlow).

    Parameters
    ----------
    out_dir : path, optional
        Run folder for ``history.csv`` (and ``samples.npz`` through :meth:`snapshot`).
    monitor : Monitor, optional
        A configured monitor; otherwise one is built from ``monitor_options``
        (``planned_steps``, ``stop_on``, ``min_steps``, ``min_fraction``, ``patience``, ``rules`` ...).
    action : 'stop', 'warn' or callable
        On a confirmed failure: stop ``fit``, only warn, or call ``action(state, model)``.
        The action runs once per failure; it is re-armed when the verdict stops being a failure.
    running_mean : bool
        The logs hold running means over the epoch (Keras ``Mean`` trackers reset
        every epoch, as in the Keras DCGAN example): recover each batch's value
        as ``(k + 1) m_k - k m_(k-1)`` before judging it.
    verbose : bool
        Print fired and cleared findings to stderr.
    sample_fn : callable, optional
        ``sample_fn(model)`` returns a batch of generated samples (for example
        ``lambda m: m.generator(fixed_noise)``). Called every ``sample_every``
        batches; the snapshot is judged live (a collapse visible in the samples
        can stop the fit, as one in the losses does) and, with ``out_dir``,
        added to ``samples.npz``. Pass the real data as ``real=`` (a monitor
        option) so the samples are compared with it.
    sample_every : int
        Batches between two snapshots (default 500 when ``sample_fn`` is given).
    mlflow : bool
        Also send each batch's metrics, with its step, to the active MLflow
        run (:mod:`gandiag.integrations.mlflow_mirror`; call ``mlflow.start_run()`` first).
    live : bool or path
        Keep ``live.png`` and a self-reloading ``live.html`` up to date while the fit runs
        (:class:`gandiag.live.view.LiveView`): ``True`` writes them in ``out_dir``, a path in that folder.
        Drawing is throttled by wall time to at most ``live_budget`` of the training time.
    live_budget : float
        The share of the training time the live view may spend drawing (default 0.01).
    """

    def __init__(self, out_dir: Any = None, *, monitor: Monitor | None = None, action: str | Hook = "stop",
                 running_mean: bool = False, verbose: bool = True, sample_fn: Callable[[Any], Any] | None = None,
                 sample_every: int | None = None, mlflow: bool = False, live: Any = False,
                 live_budget: float = 0.01, **monitor_options: Any):
        if not callable(action) and action not in ACTIONS:
            raise UsageError(f"unknown action {action!r}", hint="Pass action='stop', 'warn' or a callable hook(state, model)")
        if monitor is not None and monitor_options:
            raise UsageError("pass either monitor= or monitor options, not both")
        if sample_fn is not None and not callable(sample_fn):
            raise UsageError("sample_fn must be callable", hint="Pass sample_fn=lambda model: model.generator(noise)")
        if sample_every is not None and sample_every < 1:
            raise UsageError(f"sample_every must be >= 1, got {sample_every}")
        self.sample_fn = sample_fn
        self.sample_every = sample_every or (500 if sample_fn is not None else 0)
        self.monitor = monitor if monitor is not None else Monitor(source=str(out_dir or "<keras>"), **monitor_options)
        self.action = action
        self.running_mean = running_mean
        self.verbose = verbose
        self.logger = None
        self._mirror = None  # the MLflow mirror when there is no RunLogger to hold it
        if out_dir is not None:
            from gandiag.live.runlog import RunLogger

            self.logger = RunLogger(out_dir, mlflow=mlflow)
        elif mlflow:
            from gandiag.integrations.mlflow_mirror import MlflowMirror

            self._mirror = MlflowMirror()
        self.view = self._live_view(live, out_dir, live_budget)
        self.step = 0
        self.state: MonitorState = self.monitor.state
        self.triggered: list[MonitorState] = []
        self._armed = True
        self._previous: dict[str, float] = {}
        self._unlogged: set[str] = set()  # metrics that appeared after the first batch (not in history.csv)

    def batch_end(self, batch: int, logs: Mapping[str, Any] | None, model: Any) -> None:
        """One training batch finished: log, monitor, and act on a confirmed failure."""
        metrics = self._metrics(batch, logs or {})
        if not metrics:
            return
        self.step += 1
        if self.logger is not None:
            self.logger.log(self.step, **self._loggable(metrics))
        elif self._mirror is not None:
            self._mirror.log(self.step, metrics)
        state = self.monitor.update(self.step, **metrics)
        if self.view is not None:
            self.view.row(self.step, **metrics)
        if self.sample_fn is not None and self.step % self.sample_every == 0:
            state = self._snapshot(self.sample_fn(model))
        self.state = state
        if self.view is not None:
            self.view.update(state)  # a clock reading per batch; a figure only when the time budget allows
        if self.verbose:
            for e in state.events:
                print(f"gandiag: step {e.step}: {e.kind} {e.rule} {e.name} (onset step {e.onset_step})", file=sys.stderr)
        if not state.confirmed:
            self._armed = True
            return
        if self._armed:
            self._armed = False
            self.triggered.append(state)
            self._act(state, model)

    def _live_view(self, live: Any, out_dir: Any, budget: float) -> Any:
        """The live view ``live`` asks for (None when off)."""
        if live is False or live is None:
            return None
        if live is True:
            if out_dir is None:
                raise UsageError("live=True writes live.png and live.html in out_dir, and there is none",
                                 hint="Pass out_dir, or live='a/folder'")
            live = out_dir
        from gandiag.live.view import LiveView

        return LiveView(live, real=self.monitor.real, budget=budget, title=str(out_dir or live),
                        planned_steps=self.monitor.planned_steps)

    def _loggable(self, metrics: dict[str, float]) -> dict[str, float]:
        """The metrics ``history.csv`` has columns for; a metric that first appears later is warned about once.

        The CSV's columns are fixed by the first batch (a header cannot grow
        without rewriting the file); the monitor still judges the new metric.
        """
        columns = self.logger.columns if self.logger is not None else None
        if columns is None:
            return metrics
        known = set(columns)
        new = [name for name in metrics if name not in known and name not in self._unlogged]
        if new:
            self._unlogged.update(new)
            warnings.warn(f"gandiag: metric(s) {', '.join(map(repr, new))} first appeared at step {self.step}, after "
                          f"history.csv's columns were fixed by the first batch; they are monitored but not written "
                          f"to {self.logger.history_path}", RuntimeWarning, stacklevel=4)
        return {k: v for k, v in metrics.items() if k in known}

    def _metrics(self, batch: int, logs: Mapping[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, value in logs.items():
            if isinstance(value, (str, bytes)):
                continue  # not a metric
            try:
                v = float(value)
            except OverflowError:
                v = math.inf  # an integer beyond float's range: an overflowed metric
            except (TypeError, ValueError):
                continue  # not a scalar metric
            if self.running_mean and math.isfinite(v):
                prev = self._previous.get(name) if batch > 0 else None
                self._previous[name] = v
                if prev is not None:
                    v = (batch + 1) * v - batch * prev
            out[name] = v
        return out

    def _act(self, state: MonitorState, model: Any) -> None:
        onset = "-" if state.onset_step is None else state.onset_step
        text = (f"gandiag: {state.verdict.value} confirmed at step {state.step} (onset step {onset}, "
                f"confidence {state.confidence:.2f}): {state.reason}")
        if callable(self.action):
            self.action(state, model)
            return
        warnings.warn(text, RuntimeWarning, stacklevel=3)
        if self.action == "stop" and model is not None:
            model.stop_training = True

    def snapshot(self, samples: Any) -> MonitorState:
        """Judge generated samples taken at the current step (and add them to ``samples.npz`` with ``out_dir``).

        Acts on a failure the snapshot confirms, as a batch does.
        """
        state = self._snapshot(samples)
        self.state = state
        if state.confirmed and self._armed:
            self._armed = False
            self.triggered.append(state)
            self._act(state, getattr(self, "model", None))
        return state

    def _snapshot(self, samples: Any) -> MonitorState:
        import numpy as np

        array = np.asarray(samples.numpy() if hasattr(samples, "numpy") else samples, dtype=np.float32)
        if self.logger is not None:
            self.logger.snapshot(self.step, array)  # stored as float16: judge what the file will hold
            array = array.astype(np.float16).astype(np.float32)
        if self.view is not None:
            self.view.snapshot(self.step, array)
        return self.monitor.snapshot(self.step, array)

    def close(self) -> None:
        if self.view is not None:
            self.view.close(self.state)
        if self.logger is not None:
            self.logger.close()


def _define() -> type:
    import keras  # the user's Keras 3; absolute import (this module is gandiag.live.keras)

    class GanDiagnostics(_Diagnostics, keras.callbacks.Callback):
        __doc__ = _Diagnostics.__doc__

        def __init__(self, out_dir: Any = None, **options: Any):
            keras.callbacks.Callback.__init__(self)
            _Diagnostics.__init__(self, out_dir, **options)

        def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
            self.batch_end(batch, logs, self.model)

        def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
            self.monitor.evaluate()
            self.state = self.monitor.state
            self.close()

    GanDiagnostics.__module__ = __name__
    return GanDiagnostics


def __getattr__(name: str) -> Any:
    # The Keras class is built on first use: importing gandiag.live.keras does not load Keras/TensorFlow.
    if name == "GanDiagnostics":
        cls = _define()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'gandiag.live.keras' has no attribute {name!r}")
