import Loom
print(Tensor<Float>([[1, 2], [3, 4]]))
