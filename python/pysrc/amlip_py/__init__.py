"""AML-IP's Python API (``amlip_py`` of AML-IP 0.3) on amlip's Rust nodes.

A script written for AML-IP's ``amlip_py`` runs unchanged: ``from amlip_py.node.MainNode import
MainNode`` (or ``from amlip_py.node import MainNode``), ``JobDataType``, ``JobSolutionDataType``...
Nodes join domain 166 by default; ``domain=0`` means domain 0 (AML-IP's own ``if domain:``
turned it into 166).
"""
