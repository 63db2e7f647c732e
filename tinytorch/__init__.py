"""TinyTorch: a small PyTorch in NumPy, rebuilt module by module in the course.

The package map reads like the syllabus: ``tinytorch.core.<module>`` for modules 01-15 and
``tinytorch.perf.<module>`` for 16-18. The most used names are re-exported here.
"""

from tinytorch.core.activations import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from tinytorch.core.attention import MultiHeadAttention, causal_mask, padding_mask, scaled_dot_product_attention
from tinytorch.core.autograd import no_grad
from tinytorch.core.dataloader import (Compose, DataLoader, Dataset, Normalize, RandomCrop, RandomHorizontalFlip,
                                       TensorDataset, load_cifar10)
from tinytorch.core.embeddings import Embedding, PositionalEncoding, sinusoidal_encoding
from tinytorch.core.generation import KVCache, generate
from tinytorch.core.layers import Dropout, Flatten, Layer, Linear, Module, Sequential, manual_seed
from tinytorch.core.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss
from tinytorch.core.optimizers import SGD, Adam, AdamW, CosineAnnealingLR, LinearWarmup, StepLR, WarmupCosine
from tinytorch.core.setup import StudentInfo, environment_report
from tinytorch.core.spatial import AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, MaxPool2d
from tinytorch.core.tensor import Tensor
from tinytorch.core.tokenization import BPETokenizer, CharTokenizer
from tinytorch.core.training import Trainer
from tinytorch.core.transformers import GPT, MLP, LayerNorm, TransformerBlock
from tinytorch.perf.benchmarking import Benchmark, Profiler
from tinytorch.perf.kernels import time_kernel
from tinytorch.perf.mlops import DriftMonitor, ModelRegistry, load_state, save_state

__version__ = "0.1.0"
