# Python's side of the backbones part: torchvision's model, the tutorial's
# train step (zero_grad, forward, CrossEntropyLoss, backward, SGD step, loss.item()) on a
# synthetic batch; images per second after warm-up.
# Usage: backbones.py '{"arch": "resnet50", "threads": 2, "batch": 8, "steps": 3, "warmup": 1}'
import json
import sys
import time

import torch
import torchvision

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
torch.manual_seed(0)
arch, batch = args["arch"], args["batch"]
model = getattr(torchvision.models, arch)(weights=None, num_classes=2)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
x = torch.sin(torch.arange(batch * 3 * 224 * 224, dtype=torch.float32)).reshape(batch, 3, 224, 224)
y = torch.arange(batch) % 2
model.train()


def step():
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    loss.item()


for _ in range(args["warmup"]):
    step()
seconds = []
for _ in range(args["steps"]):
    started = time.perf_counter()
    step()
    seconds.append(time.perf_counter() - started)
print(json.dumps({"arch": arch, "threads": torch.get_num_threads(), "batch": batch, "steps": args["steps"], "warmup": args["warmup"],
                  "stepSeconds": seconds, "trainImagesPerSecond": batch * args["steps"] / sum(seconds),
                  "torch": torch.__version__, "torchvision": torchvision.__version__}))
