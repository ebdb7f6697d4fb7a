# PyTorch's own DDP (Gloo, CPU, 2 processes) for three SGD steps of ResNet-18,
# fine-tuning all of it ("finetune") and then with only fc trainable ("fe",
# feature extraction): writes the start weights, the per-rank batches, each
# rank's losses and final state dict per mode, for __tests__/distributed.test.ts
# to compare with ours.
# usage: ddp_parity.py OUT_DIR PORT
import json, os, sys
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torchvision

STEPS, BATCH, SIZE, LR, MOMENTUM = 3, 2, 64, 0.01, 0.9


def train(rank, out, mode):
    torch.manual_seed(100 + rank)  # rank 1 starts elsewhere: DDP must broadcast rank 0's weights
    model = torchvision.models.resnet18(num_classes=2)
    if rank == 0:
        model.load_state_dict(torch.load(os.path.join(out, "weights.pth")))
    if mode == "fe":  # feature extraction: only fc trains, so only fc's gradients are reduced
        for name, p in model.named_parameters():
            p.requires_grad = name.startswith("fc.")
    model.train()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD([p for p in ddp.parameters() if p.requires_grad], lr=LR, momentum=MOMENTUM)
    data = torch.load(os.path.join(out, "data.pth"))
    losses = []
    for step in range(STEPS):
        opt.zero_grad()
        outputs = ddp(data["x"][rank][step])
        loss = torch.nn.functional.cross_entropy(outputs, data["y"][rank][step])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    torch.save(model.state_dict(), os.path.join(out, f"py_{mode}_rank{rank}.pth"))
    with open(os.path.join(out, f"py_{mode}_losses{rank}.json"), "w") as f:
        json.dump(losses, f)


def run(rank, out, port):
    torch.set_num_threads(1)
    # torch 2.4+ makes the rendezvous store on libuv unless told not to, and
    # Debian 13's torch 2.6 is built without libuv (init would fail); the
    # classic store, which torch-transfer uses too. torch 1.13 ignores this.
    os.environ.setdefault("USE_LIBUV", "0")
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    for mode in ("finetune", "fe"):
        train(rank, out, mode)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    out, port = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(num_classes=2).state_dict(), os.path.join(out, "weights.pth"))
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, STEPS, BATCH, 3, SIZE, SIZE, generator=g)
    y = torch.randint(0, 2, (2, STEPS, BATCH), generator=g)
    torch.save({"x": x, "y": y}, os.path.join(out, "data.pth"))
    mp.spawn(run, args=(out, port), nprocs=2, join=True)
