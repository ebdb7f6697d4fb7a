#!/usr/bin/python3
"""The recipe report's second folder: scikit-learn's bundled handwritten digits
(UCI, 1,797 8x8 greyscale images, 10 classes; no download) as an ImageFolder
with train/ and val/, N_TRAIN and N_VAL images per class taken in file order.

    /usr/bin/python3 scripts/data/digits-folder.py OUT [N_TRAIN] [N_VAL]

Needs Debian's python3-sklearn and python3-pil. Pixel values 0-16 become 0-255.
"""
import os
import sys

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

out = sys.argv[1]
n_train = int(sys.argv[2]) if len(sys.argv) > 2 else 60
n_val = int(sys.argv[3]) if len(sys.argv) > 3 else 20
digits = load_digits()
seen = {c: 0 for c in range(10)}
for i, (image, target) in enumerate(zip(digits.images, digits.target)):
    k = seen[target]
    if k >= n_train + n_val:
        continue
    seen[target] += 1
    split = "train" if k < n_train else "val"
    folder = os.path.join(out, split, str(target))
    os.makedirs(folder, exist_ok=True)
    pixels = np.round(image * 255 / 16).astype(np.uint8)
    Image.fromarray(pixels, mode="L").save(os.path.join(folder, f"{i:04d}.png"))
print(f"{out}: {sum(seen.values())} images, {n_train} train and {n_val} val per class")
