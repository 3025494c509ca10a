"""Live monitoring: the same rules and verdict while a run trains.

In: rows and snapshots as they are logged (a :class:`~gandiag.live.monitor.Monitor`
fed by a training loop, the Keras callback :mod:`.keras`, or ``gandiag watch``
following a growing file, :mod:`.follow`). Out: events as findings start and
stop, a live verdict, and a stop decision (:mod:`.stop`). :mod:`.runlog`
writes the analyzer's format crash-safely from any training loop. The building
blocks (:mod:`.buffer`, :mod:`.episodes`, :mod:`.snapshots`, :mod:`.validate`)
import neither TensorFlow nor pandas.
"""
