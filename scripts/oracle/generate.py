"""Writes fixtures/golden/*.json from scipy and Evidently (versions pinned in requirements.txt).

Every module cases_*.py in this folder exposes build() -> {name: payload}; each payload is written to
fixtures/golden/<name>.json with a header naming the versions that produced it. Run through generate.sh
(`npm run golden`), which prepares the pinned virtual environment first.
"""
from __future__ import annotations

import importlib
import json
import sys
import warnings
from pathlib import Path

import numpy
import pandas
import scipy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / "fixtures" / "golden"


def versions() -> dict[str, str]:
    import evidently
    import sklearn

    return {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "evidently": evidently.__version__,
        "scikit-learn": sklearn.__version__,
    }


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")
    only = set(argv[1:])
    sys.path.insert(0, str(HERE))
    OUT.mkdir(parents=True, exist_ok=True)
    header = versions()
    for path in sorted(HERE.glob("cases_*.py")):
        module = importlib.import_module(path.stem)
        for name, payload in module.build().items():
            if only and name not in only:
                continue
            doc = {
                "generated_by": f"scripts/oracle/{path.name} (npm run golden)",
                "versions": header,
                **payload,
            }
            text = json.dumps(doc, indent=1, sort_keys=False, allow_nan=False) + "\n"
            (OUT / f"{name}.json").write_text(text)
            print(f"wrote fixtures/golden/{name}.json ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
