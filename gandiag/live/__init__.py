"""Building blocks of live monitoring: growable column buffers, incremental persistence, file following.

The public entry points are :class:`gandiag.monitor.Monitor`, ``gandiag.keras.GanDiagnostics``
and ``gandiag watch``; nothing here imports TensorFlow or pandas.
"""
