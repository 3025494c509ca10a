"""The data sets gandiag knows by name: embedded (scikit-learn's digits, synthetic 2-D and 8-D mixtures and curves,
breast-cancer features) and read from the Keras cache or a user's ``.npz`` (MNIST, CIFAR-10), never downloaded.

In: a name. Out: a :class:`~gandiag.data.datasets.Dataset` (examples scaled to [-1, 1], labels where the data has
classes) and, for the synthetic sets, their known geometry (:data:`~gandiag.data.datasets.POINT_SPECS`). The
harness trains on them; ``--real NAME`` compares samples with them; the corpus oracle judges runs with them.
Nothing here imports TensorFlow.
"""
