"""Recompute the shipped model's calibration record (`fer_nb/weights/<SHIPPED>.json`) on the real FER-2013.

Run it whenever the shipped weights change: `FER2013_ZIP=path/to/fer2013.zip python tools/calibrate_shipped.py`.
It fits the temperature on the shipped model's validation split and measures ECE and NLL on validation and test
(see nbs/34_calibration.ipynb)."""
import json, sys
from fer_nb.calibration import calibrate_shipped, record_path
from fer_nb.pretrained import pretrained_path

if __name__ == '__main__':
    rec = calibrate_shipped(sys.argv[1] if len(sys.argv) > 1 else None)
    print(json.dumps(rec, indent=1))
    print(f"written to {record_path(pretrained_path())}", file=sys.stderr)
