# Loaded by every Python the tests start, through PYTHONPATH, which
# __tests__/helpers/globalSetup.ts sets only where the addon started with
# oneDNN off (tt.backends.mkldnn.whyOff: libtorch 2.x on a CPU whose CPUID
# describes no cache). The references then run torch's own kernels too, as
# ours do: on such a CPU oneDNN divides by zero or, without dying, computes
# some convolutions wrong, so a reference made with it is not PyTorch's answer.
import os

if os.environ.get("TT_REFERENCE_MKLDNN") == "0":
    import torch

    torch.backends.mkldnn.enabled = False
