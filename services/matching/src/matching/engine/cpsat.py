"""A thin builder of CP-SAT models over booleans, writing the model proto directly.

The engine needs booleans, at-most-ones, linear "at most" constraints, fixed values, hints and
a maximised weighted sum. Writing them straight into the proto (OR-Tools' C++ helper) builds a
large model several times faster than the expression API, and skips that API's import of pandas,
which costs the `vsm solve` time limit about a second before any work starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model_helper as helper

_STATUS = {
    helper.CpSolverStatus.OPTIMAL: "OPTIMAL",
    helper.CpSolverStatus.FEASIBLE: "FEASIBLE",
    helper.CpSolverStatus.INFEASIBLE: "INFEASIBLE",
    helper.CpSolverStatus.MODEL_INVALID: "MODEL_INVALID",
    helper.CpSolverStatus.UNKNOWN: "UNKNOWN",
}
_LOWEST = -(2**62)


@dataclass(frozen=True, slots=True)
class Result:
    """How a solve ended: its status, the best answer's value and each boolean, the bound."""

    status: str
    objective: float
    bound: float
    values: Sequence[int]

    @property
    def has_answer(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


class BoolModel:
    """A maximisation over booleans."""

    def __init__(self) -> None:
        self.proto = helper.CpModelProto()
        self._hint_vars: list[int] = []
        self._hint_values: list[int] = []

    def new_bools(self, count: int) -> range:
        """`count` new booleans, as their indices."""
        first = len(self.proto.variables)
        variable = helper.IntegerVariableProto()
        variable.domain.extend([0, 1])
        self.proto.variables.extend([variable] * count)
        return range(first, first + count)

    def at_most_one(self, literals: Iterable[int]) -> None:
        self.proto.constraints.add().at_most_one.literals.extend(list(literals))

    def at_most(self, variables: Sequence[int], coefficients: Sequence[int], limit: int) -> None:
        """sum(coefficients * variables) <= limit."""
        linear = self.proto.constraints.add().linear
        linear.vars.extend(list(variables))
        linear.coeffs.extend(list(coefficients))
        linear.domain.extend([_LOWEST, int(limit)])

    def fix(self, variable: int, value: int) -> None:
        domain = self.proto.variables[variable].domain
        domain.clear()
        domain.extend([value, value])

    def hint(self, variable: int, value: int) -> None:
        self._hint_vars.append(variable)
        self._hint_values.append(value)

    def maximize(self, variables: Sequence[int], coefficients: Sequence[int]) -> None:
        objective = self.proto.objective
        objective.vars.extend(list(variables))
        objective.coeffs.extend([-int(c) for c in coefficients])
        objective.scaling_factor = -1.0

    def solve(self, seconds: float, workers: int, seed: int) -> Result:
        self.proto.solution_hint.vars.extend(self._hint_vars)
        self.proto.solution_hint.values.extend(self._hint_values)
        parameters = helper.SatParameters()
        parameters.max_time_in_seconds = max(seconds, 0.01)
        parameters.num_workers = workers
        parameters.random_seed = seed
        solver = helper.SolveWrapper()
        solver.set_parameters(parameters)
        response = solver.solve(self.proto)  # type: ignore[no-untyped-call]
        status = _STATUS.get(response.status, "UNKNOWN")
        values = list(response.solution) if status in ("OPTIMAL", "FEASIBLE") else []
        return Result(status, response.objective_value, response.best_objective_bound, values)


__all__ = ["BoolModel", "Result"]
