"""The code that may ever run beside student code, in the sandbox: the wire codec, the runner
and the milestone driver. Standard library and NumPy only; the image build, the local backend
and the starter copy this folder whole, so whatever is here is what the sandbox gets."""
