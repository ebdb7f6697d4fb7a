# The PyTorch transfer-learning tutorial as its users run it, timed per phase.
# Usage: tutorial.py '{"data": DIR, "threads": N, "modes": [...], "epochs": 1, "limit": null, "seed": 0,
#                      "device": "cpu", "amp": false, "channels_last": false}'
# "device": "cuda:0" runs it on a GPU as the tutorial does when one is there;
# "amp": true adds torch.cuda.amp (autocast float16, GradScaler) around it on a
# GPU, and torch.autocast("cpu", bfloat16) on CPU (no scaler: bf16 keeps fp32's range).
# "channels_last": true moves the model with memory_format=torch.channels_last.
# Prints one JSON object. ResNet-18 starts from random weights (weights=None):
# the ImageNet file cannot be downloaded on the bench machines.
import copy
import json
import os
import sys
import time

import torch
import torchvision
from torch import nn, optim
from torch.optim import lr_scheduler
from torchvision import datasets, transforms

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])  # Debian's torch starts with one thread
torch.manual_seed(args.get("seed", 0))

data_transforms = {
    "train": transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]),
    "val": transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]),
}


def subset(ds, limit):
    if not limit or limit >= len(ds):
        return ds
    # the same evenly spaced samples the Node side takes (see scripts/bench/subset.js)
    idx = [int(i * len(ds) / limit) for i in range(limit)]
    return torch.utils.data.Subset(ds, idx)


image_datasets = {x: datasets.ImageFolder(os.path.join(args["data"], x), data_transforms[x]) for x in ["train", "val"]}
limits = args.get("limit") or {}
image_datasets = {x: subset(image_datasets[x], limits.get(x)) for x in ["train", "val"]}
dataloaders = {
    x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4, shuffle=True, num_workers=args.get("workers", 4))
    for x in ["train", "val"]
}
dataset_sizes = {x: len(image_datasets[x]) for x in ["train", "val"]}
device = torch.device(args.get("device", "cpu"))
amp = bool(args.get("amp", False))
amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16


def train_model(model, criterion, optimizer, scheduler, num_epochs):
    # enabled=False passes straight through: plain backward and step.
    scaler = torch.cuda.amp.GradScaler(enabled=amp and device.type == "cuda")
    records = []
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        for phase in ["train", "val"]:
            started = time.perf_counter()
            if phase == "train":
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                        outputs = model(inputs)
                        _, preds = torch.max(outputs, 1)
                        loss = criterion(outputs, labels)
                    if phase == "train":
                        scaler.scale(loss).backward()
                        scaler.step(optimizer)
                        scaler.update()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double().item() / dataset_sizes[phase]
            records.append({"epoch": epoch, "phase": phase, "loss": epoch_loss, "acc": epoch_acc,
                            "seconds": time.perf_counter() - started, "images": dataset_sizes[phase]})
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_model_wts)
    return best_acc, records


out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads(), "modes": {}}
for mode in args["modes"]:
    model = torchvision.models.resnet18(weights=None)
    if mode == "feature-extract":
        for param in model.parameters():
            param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 2)
    model = model.to(device, memory_format=torch.channels_last) if args.get("channels_last") else model.to(device)
    params = model.fc.parameters() if mode == "feature-extract" else model.parameters()
    optimizer = optim.SGD(params, lr=0.001, momentum=0.9)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    started = time.perf_counter()
    best_acc, records = train_model(model, nn.CrossEntropyLoss(), optimizer, scheduler, args.get("epochs", 1))
    out["modes"][mode] = {"records": records, "bestAcc": best_acc, "wall": time.perf_counter() - started}
print(json.dumps(out))
