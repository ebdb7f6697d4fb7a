# Loaded by every Python the tests start, through PYTHONPATH, which
# __tests__/helpers/globalSetup.ts sets only where the addon started with
# oneDNN off (tt.backends.mkldnn.whyOff: libtorch 2.x on a CPU whose CPUID
# describes no cache). The references then run torch's own kernels too, as
# ours do: on such a CPU oneDNN divides by zero or, without dying, computes
# some convolutions wrong, so a reference made with it is not PyTorch's answer.
#
# The switch is made as torch is imported, not here: importing torch costs
# 2 s of CPU, and most Pythons the tests start (the ONNX checker's, say)
# never import it.
import os
import sys

if os.environ.get("TT_REFERENCE_MKLDNN") == "0":
    import importlib.abc
    import importlib.util

    class _MkldnnOffOnImport(importlib.abc.MetaPathFinder):
        searching = False

        def find_spec(self, name, path=None, target=None):
            if name != "torch" or self.searching:
                return None
            self.searching = True
            try:
                spec = importlib.util.find_spec(name)
            finally:
                self.searching = False
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module

            def exec_then_switch_off(module):
                exec_module(module)
                import torch.backends.mkldnn

                torch.backends.mkldnn.enabled = False

            spec.loader.exec_module = exec_then_switch_off
            return spec

    sys.meta_path.insert(0, _MkldnnOffOnImport())
