"""Junction trees over discrete variables: compilation and numpy propagation.

``structure`` turns a Bayesian network's families into a junction tree (moralisation,
triangulation by a networkx heuristic, maximal cliques, disconnected networks joined by
empty separators). ``tree`` holds clique potentials and runs sum-product calibration with
``numpy.einsum``, incremental re-propagation after a local change, and min-sum over
additive clique tables.
"""

from predmarket.junction.structure import JunctionStructure, compile_structure
from predmarket.junction.tree import JunctionTree

__all__ = ["JunctionStructure", "JunctionTree", "compile_structure"]
