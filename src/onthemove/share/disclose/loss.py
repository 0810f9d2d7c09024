"""Information loss of a release, with the standard metrics, so that two anonymisations can be compared.

Every metric is computed per quasi-identifier cell and counts a suppressed cell (or every cell of a
suppressed record) as fully lost. ``n`` records, ``Q`` quasi-identifiers:

- **LM** (Loss Metric, Iyengar 2002): a cell generalised to a label that covers ``m`` of the ``M`` values
  of its hierarchy loses ``(m - 1) / (M - 1)``; LM is the mean over the ``n * Q`` cells (0 = as recorded,
  1 = all suppressed). ARX reports it as "loss".
- **precision** (generalisation intensity, Sweeney's Prec): a cell at level ``h`` of a hierarchy of height
  ``H`` loses ``h / H``; the mean over the cells.
- **entropy** (non-uniform entropy, Gionis and Tassa 2009, as ARX computes it): a cell whose value ``v`` is
  released as label ``g`` loses ``log2(freq(g) / freq(v))`` bits, frequencies counted in the original data;
  reported as a share of the bits lost when every cell is suppressed.
- **discernibility** (Bayardo and Agrawal 2005): the sum of the squared sizes of the released classes, plus
  ``n`` for every suppressed record; also given divided by ``n**2``.
- **average class size** ``C_avg = (records released / classes) / k`` (LeFevre et al. 2006).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from onthemove.share.disclose.groups import combine

if TYPE_CHECKING:
    from onthemove.share.disclose.lattice import Encoded


@dataclass(frozen=True)
class Loss:
    lm: float
    precision: float
    entropy: float
    discernibility: int
    avg_class_size: float
    suppressed_records: int
    suppressed_cells: int

    def value(self, metric: str) -> float:
        if metric == "discernibility":
            return float(self.discernibility)
        return float(getattr(self, metric))

    def to_dict(self, n: int | None = None) -> dict[str, float | int]:
        out: dict[str, float | int] = {
            "lm": round(self.lm, 6),
            "precision": round(self.precision, 6),
            "entropy": round(self.entropy, 6),
            "discernibility": self.discernibility,
            "avg_class_size": round(self.avg_class_size, 3),
            "suppressed_records": self.suppressed_records,
            "suppressed_cells": self.suppressed_cells,
        }
        if n:
            out["discernibility_share"] = round(self.discernibility / n**2, 6)
        return out


def release_loss(enc: Encoded, levels: tuple[int, ...], suppressed: np.ndarray, k: int) -> Loss:
    """The loss of releasing every record at ``levels`` with ``suppressed`` cells (bool, records x QIs) blanked.

    A record whose every quasi-identifier is ``*`` (suppressed, or at the top of its hierarchy) counts as a
    suppressed record.
    """
    n, q = enc.n, len(enc.hierarchies)
    suppressed = np.asarray(suppressed, dtype=bool).reshape(n, q)
    lm = prec = ent = 0.0
    codes = []
    for j, (h, level) in enumerate(zip(enc.hierarchies, levels, strict=True)):
        g = h.maps[level][enc.codes[j]]
        off = suppressed[:, j]
        lm += float(np.where(off, 1.0, enc.lm[j][level][g]).sum())
        prec += float(np.where(off, 1.0, level / h.height).sum())
        ent += float(np.where(off, enc.bits[j][h.height][enc.codes[j]], enc.bits[j][level][enc.codes[j]]).sum())
        codes.append(np.where(off, -1, g))
    # a record whose every quasi-identifier is '*' (suppressed, or generalised to the top) is suppressed
    whole = (suppressed | np.array([lv == h.height for h, lv in zip(enc.hierarchies, levels, strict=True)])).all(axis=1)
    ids, n_classes = combine(codes, [len(h.labels[lv]) for h, lv in zip(enc.hierarchies, levels, strict=True)])
    sizes = np.bincount(ids[~whole], minlength=n_classes)
    released = int((~whole).sum())
    classes = int((sizes > 0).sum())
    return Loss(
        lm=lm / (n * q) if n else 0.0,
        precision=prec / (n * q) if n else 0.0,
        entropy=ent / enc.max_bits if enc.max_bits else 0.0,
        discernibility=int((sizes.astype(np.int64) ** 2).sum() + int(whole.sum()) * n),
        avg_class_size=(released / classes) / k if classes else 0.0,
        suppressed_records=int(whole.sum()),
        suppressed_cells=int(suppressed.sum()),
    )
