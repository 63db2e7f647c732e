"""The module and milestone ids, in course order, and where each module lives in a student's
``tinytorch`` package (docs/ARCHITECTURE.md)."""

MODULE_IDS = ("01_setup", "02_tensor", "03_activations", "04_layers", "05_losses",
              "06_optimizers", "07_autograd", "08_training", "09_spatial", "10_dataloader",
              "11_tokenization", "12_embeddings", "13_attention", "14_transformers",
              "15_generation", "16_kernels", "17_benchmarking", "18_mlops")
MILESTONE_IDS = ("xor", "cifar10", "tinygpt")


def module_path(module_id):
    """Where a module lives in the package: core for 01-15, perf for 16-18."""
    number, name = module_id.split("_", 1)
    return f"tinytorch/{'perf' if int(number) >= 16 else 'core'}/{name}.py"
