"""Input tables: their contracts (:mod:`rxxl.data.contracts`), validated loading and the
synthetic health system."""
