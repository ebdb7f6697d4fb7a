# PyTorch: where a fine-tune train step's time goes (waiting for the next
# batch, forward with the loss, backward, optimizer.step), over the tutorial's
# train loader; scripts/bench/breakdown.js does the same for ours.
# Usage: breakdown.py '{"data": DIR, "threads": N, "workers": N, "seed": 0, "steps": null, "mode": "finetune"}'
import json
import os
import sys
import time

import torch
import torchvision
from torch import nn, optim
from torchvision import datasets, transforms

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])  # Debian's torch starts with one thread
torch.manual_seed(args.get("seed", 0))
train_transform = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
dataset = datasets.ImageFolder(os.path.join(args["data"], "train"), train_transform)
loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True, num_workers=args.get("workers", 4))
model = torchvision.models.resnet18(weights=None)
mode = args.get("mode", "finetune")
if mode == "feature-extract":
    for param in model.parameters():
        param.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 2)
params = model.fc.parameters() if mode == "feature-extract" else model.parameters()
optimizer = optim.SGD(params, lr=0.001, momentum=0.9)
criterion = nn.CrossEntropyLoss()
model.train()
totals = {"data": 0.0, "forward": 0.0, "backward": 0.0, "optimizer": 0.0}
steps = 0
images = 0
started = time.perf_counter()
it = iter(loader)
while True:
    t0 = time.perf_counter()
    try:
        inputs, labels = next(it)
    except StopIteration:
        break
    t1 = time.perf_counter()
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = criterion(outputs, labels)
    t2 = time.perf_counter()
    loss.backward()
    t3 = time.perf_counter()
    optimizer.step()
    t4 = time.perf_counter()
    if steps > 0:  # the first step warms the allocator and oneDNN: not counted, as in breakdown.js
        totals["data"] += t1 - t0
        totals["forward"] += t2 - t1
        totals["backward"] += t3 - t2
        totals["optimizer"] += t4 - t3
        images += inputs.size(0)
    steps += 1
    if args.get("steps") and steps > args["steps"]:
        break
counted = steps - 1
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "steps": counted, "images": images,
                  "wall": time.perf_counter() - started, "perStepSeconds": {k: v / counted for k, v in totals.items()}}))
