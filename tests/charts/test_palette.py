"""The strategy palette stays distinguishable for people with a colour-vision deficiency.

Colours are simulated for protanopia, deuteranopia and tritanopia with the matrices of Machado,
Oliveira & Fernandes (2009, severity 1, applied in linear RGB) and compared in CIELAB (D65): two
colours closer than about 10 units are hard to tell apart as thin lines; Tol's teal and
Okabe-Ito's reddish purple, 4 units apart for deuteranopes, is the pair this test caught.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.charts.style import BASELINE_COLOUR, STRATEGY_COLOURS, StrategyColours

SIMULATIONS = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def lab(colour: str, simulation: str) -> np.ndarray:
    srgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz = SRGB_TO_XYZ @ np.clip(SIMULATIONS[simulation] @ linear, 0, 1) / WHITE_D65
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(colours: list[str]) -> tuple[float, str, str, str]:
    return min(
        (float(np.linalg.norm(lab(a, s) - lab(b, s))), a, b, s)
        for a, b in itertools.combinations(colours, 2)
        for s in SIMULATIONS
    )


@pytest.mark.parametrize(("strategies", "least_distance"), [(9, 15.0), (len(STRATEGY_COLOURS) + 1, 9.0)])
def test_strategy_colours_stay_apart_under_colour_vision_deficiencies(strategies, least_distance):
    colours = StrategyColours(tuple(f"s{i}" for i in range(strategies)), "s0").scale().to_dict()["range"]
    assert colours[0] == BASELINE_COLOUR and len(set(colours)) == strategies
    distance, *pair = closest_pair(colours)
    assert distance >= least_distance, pair


def test_the_check_tells_close_colours_apart():
    distance, *_ = closest_pair(["#CC79A7", "#44AA99"])  # pink and teal: alike for deuteranopes
    assert distance < 9.0
