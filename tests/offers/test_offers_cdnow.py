"""The anchor: BG/NBD and Gamma-Gamma fitted on the CDNOW sample reproduce the published tables.

Data: ``data/CDNOW_sample.txt`` (2,357 customers, 6,919 purchase records, 1997-01-01 to 1998-06-30),
the data file shipped in the Lifetimes 0.11.3 wheel on PyPI (lifetimes/datasets/, MIT licence;
sha256 6fae1015...d94a), extracted alone. Columns: customer id, sample id, date, CDs, dollars.

Published values: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing
Science 24(2): r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9,582.4 on the first 39 weeks; Fader &
Hardie, "The Gamma-Gamma model of monetary value" (2013), on its 946 repeat customers: p 6.25,
q 3.74, gamma 15.45 (dollars). Purchases of one day are one purchase; money is read in cents and the
mean value of a customer's repeat purchases is held in whole cents, as the published summary is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyadsl.offers import bgnbd, gammagamma
from loyadsl.offers.fit import summary
from loyadsl.offers.history import Visit

DATA = Path(__file__).parent / "data" / "CDNOW_sample.txt"
END = dt.date(1997, 9, 30).toordinal()  # the end of week 39


def visits() -> list[list[Visit]]:
    by: dict[str, dict[int, int]] = {}
    for line in DATA.read_text().splitlines():
        cid, _, date, _, dollars = line.split()
        day = dt.date(int(date[:4]), int(date[4:6]), int(date[6:])).toordinal()
        whole, _, cents = dollars.partition(".")
        if day <= END:
            by.setdefault(cid, {})
            by[cid][day] = by[cid].get(day, 0) + int(whole) * 100 + int(cents.ljust(2, "0"))
    return [[Visit(d, amount, {}) for d, amount in sorted(days.items())] for _, days in sorted(by.items())]


@pytest.fixture(scope="module")
def data() -> tuple:
    return summary(visits(), END)


def test_bgnbd_reproduces_fader_hardie_lee_2005(data: tuple) -> None:
    x, t_x, T, _ = data
    assert len(x) == 2357
    m = bgnbd.fit(x, t_x, T, seed=0)
    assert (round(m.r, 3), round(m.alpha, 3), round(m.a, 3), round(m.b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(m.loglik, 1) == -9582.4


def test_gamma_gamma_reproduces_the_published_fit(data: tuple) -> None:
    x, _, _, m = data
    repeat = x > 0
    assert int(repeat.sum()) == 946
    gg = gammagamma.fit(x[repeat], m[repeat] / 100, seed=0)
    assert (round(gg.p, 2), round(gg.q, 2), round(gg.gamma, 2)) == (6.25, 3.74, 15.45)


def test_conditional_expectation_of_the_paper(data: tuple) -> None:
    """The paper's worked example: a customer with x = 2, t_x = 30.43, T = 38.86 is expected to make
    1.226 purchases in the next 39 weeks."""
    import numpy as np
    x, t_x, T, _ = data
    m = bgnbd.fit(x, t_x, T, seed=0)
    one = np.array([2.0]), np.array([30.43]), np.array([38.86])
    assert round(float(bgnbd.expected(m, 39.0, *one)[0]), 3) == 1.226


def test_scores_follow_the_paper(data: tuple) -> None:
    """p_alive is 1 without repeat purchases and falls with time since the last one; expected
    purchases grow with the horizon."""
    x, t_x, T, _ = data
    m = bgnbd.fit(x, t_x, T, seed=0)
    alive = bgnbd.p_alive(m, x, t_x, T)
    assert ((alive > 0) & (alive <= 1)).all() and (alive[x == 0] == 1).all()
    import numpy as np
    one = np.array([2.0]), np.array([10.0, 30.0]), np.array([38.0, 38.0])
    assert bgnbd.p_alive(m, one[0], one[1], one[2])[0] < bgnbd.p_alive(m, one[0], one[1], one[2])[1]
    assert (bgnbd.expected(m, 52.0, x, t_x, T) > bgnbd.expected(m, 10.0, x, t_x, T)).all()
