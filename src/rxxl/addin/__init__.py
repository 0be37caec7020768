"""The Excel add-in ``rxxl.xlam``: its builder, installer and command line.

- :mod:`rxxl.addin.build` assembles the add-in from the text sources in ``sources/``;
- :mod:`rxxl.addin.vba`, :mod:`rxxl.addin.ovba` and :mod:`rxxl.addin.cfb` write its VBA
  project (MS-OVBA compression, Compound File Binary container);
- :mod:`rxxl.addin.wrappers` generates the RX_ function wrappers with xlwings' generator;
- :mod:`rxxl.addin.install` puts it into Excel's start-up folder;
- :mod:`rxxl.addin.cli` is ``rxxl addin``.
"""
