"""Customer mechanisms: the fixed phases of the monthly step, one module each.

Each module holds a frozen ``*Params`` dataclass (registered here by the module's name, so a
scenario can set ``market.<name>.<field>``) and vectorised functions over the population.
"""

from sim.registry import Registry

MECHANISMS: Registry[type] = Registry("mechanism")
