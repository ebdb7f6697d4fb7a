# The bench's other Python measurements. Usage: tools.py COMMAND '{"threads": N, ...}'; prints one JSON object.
#   mm       float32 matrix-multiply rate (torch.mm, 2048 x 2048: OpenBLAS on Debian)
#   step     a bare ResNet-18 train step and eval forward on synthetic batches of 4
#   weights  ResNet-18 state dicts saved by torch.save (1000 classes; 2 classes) and the 2-class one as ONNX
#   load     torch.load of a state dict file (for comparison with our tt.load)
#   decode   decode-and-transform throughput of ImageFolder with the tutorial's transforms, in one process
import json
import os
import resource
import sys
import time

import torch
import torchvision

command, args = sys.argv[1], json.loads(sys.argv[2])
torch.set_num_threads(args["threads"])
torch.manual_seed(args.get("seed", 0))


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def mm():
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    reps, started = 0, time.perf_counter()
    while reps < 3 or time.perf_counter() - started < args.get("seconds", 2.0):
        torch.mm(a, b)
        reps += 1
    seconds = time.perf_counter() - started
    return {"gflops": 2 * n ** 3 * reps / seconds / 1e9, "n": n, "reps": reps}


def step():
    model = torchvision.models.resnet18(weights=None)
    model.fc = torch.nn.Linear(512, 2)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    x, y = torch.randn(4, 3, 224, 224), torch.randint(0, 2, (4,))
    steps = args.get("steps", 8)

    def train_step():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()

    model.train()
    train_step()
    started = time.perf_counter()
    for _ in range(steps):
        train_step()
    train_ips = 4 * steps / (time.perf_counter() - started)
    model.eval()
    with torch.no_grad():
        model(x)
        started = time.perf_counter()
        for _ in range(steps):
            model(x).argmax(1)
        eval_ips = 4 * steps / (time.perf_counter() - started)
    return {"trainImagesPerSecond": train_ips, "evalImagesPerSecond": eval_ips, "batch": 4, "steps": steps}


def weights():
    out = args["out"]
    model = torchvision.models.resnet18(weights=None)
    torch.save(model.state_dict(), os.path.join(out, "resnet18-1000.pth"))  # zip format, as torchvision's file
    model.fc = torch.nn.Linear(512, 2)
    model.eval()
    torch.save(model.state_dict(), os.path.join(out, "resnet18-2.pth"))
    started = time.perf_counter()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), os.path.join(out, "resnet18-2.onnx"),
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    export_seconds = time.perf_counter() - started
    # reference logits for two inputs, so the Node side can check it serves the same weights
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 224, 224, generator=g)
    with torch.no_grad():
        logits = model(x)
    x.numpy().astype("float32").tofile(os.path.join(out, "check-input.f32"))
    return {"onnxExportSeconds": export_seconds, "checkLogits": logits.tolist(),
            "files": {k: os.path.getsize(os.path.join(out, f)) for k, f in
                      [("pth1000", "resnet18-1000.pth"), ("pth2", "resnet18-2.pth"), ("onnx", "resnet18-2.onnx")]}}


def load():
    runs = []
    for _ in range(args.get("repeats", 3)):
        started = time.perf_counter()
        torch.load(args["file"])
        runs.append(time.perf_counter() - started)
    # A mapped load reads the pages when they are first used: this times the
    # load together with that first use, copying the weights into a model.
    model = torchvision.models.resnet18()
    into = []
    for _ in range(args.get("repeats", 3)):
        started = time.perf_counter()
        model.load_state_dict(torch.load(args["file"]))
        into.append(time.perf_counter() - started)
    return {"firstSeconds": runs[0], "bestSeconds": min(runs), "runs": runs, "intoModelBestSeconds": min(into)}


def decode():
    from torchvision import datasets, transforms
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tf = {
        "train": transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm]),
        "val": transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm]),
    }
    result = {}
    limits = args.get("limit") or {}
    for phase in ["train", "val"]:
        ds = datasets.ImageFolder(os.path.join(args["data"], phase), tf[phase])
        n = len(ds)
        idx = range(n) if not limits.get(phase) or limits[phase] >= n else [int(i * n / limits[phase]) for i in range(limits[phase])]
        idx = list(idx)
        for i in idx:  # the first pass, untimed, as ours (scripts/bench/decode.js)
            ds[i]
        cpu0, started = cpu_seconds(), time.perf_counter()
        for i in idx:
            ds[i]
        seconds = time.perf_counter() - started
        result[phase] = {"images": len(idx), "seconds": seconds, "cpuSeconds": cpu_seconds() - cpu0}
    return result


print(json.dumps({"mm": mm, "step": step, "weights": weights, "load": load, "decode": decode}[command]()))
