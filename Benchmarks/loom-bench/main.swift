import Loom
print("loom-bench: not yet")
