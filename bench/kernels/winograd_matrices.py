#!/usr/bin/env python3
# Derives (and checks exactly) the Winograd matrices of src/Backprop/Kernels/ConvolutionWinograd*.cs and ConvolutionBatchLane*.cs:
# F(4x4, 3x3) and F(2x2, 5x5) on the points 0, 1, -1, 2, -2, infinity share B^T; only G and A^T differ. F(4x4, 5x5), at the
# end, adds 1/2 and -1/2. Run: /usr/bin/python3 bench/kernels/winograd_matrices.py
from sympy import Matrix, Rational, zeros, symbols, expand
pts = [0, 1, -1, 2, -2]
alpha = 6
def vander(n):  # alpha x n: finite points' powers, infinity row picks the top coefficient
    V = zeros(alpha, n)
    for i, a in enumerate(pts):
        for j in range(n): V[i, j] = Rational(a) ** j
    V[alpha - 1, n - 1] = 1
    return V
E = vander(alpha)
interpT = E.inv().T          # depends on the points only
lavinBT = Matrix([[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]])
# lavinBT = D^-1 interpT row by row, with D diagonal: find D
D = [interpT[i, :].dot(lavinBT[i, :]) / lavinBT[i, :].dot(lavinBT[i, :]) for i in range(alpha)]
assert all(interpT[i, :] == D[i] * lavinBT[i, :] for i in range(alpha)), "Lavin's B^T is not a row scaling of the interpolation"
print("row scaling D (interp^T = diag(D) B^T):", D)
for m, r in [(4, 3), (2, 5)]:
    AT = vander(m).T
    G = Matrix.diag(*D) * vander(r)
    print(f"F({m},{r}): A^T =", AT.tolist()); print(f"F({m},{r}): G =", G.tolist())
    # check y_i = sum_j g_j d_{i+j} exactly for symbolic d, g
    d = Matrix(symbols(f'd0:{alpha}')); g = Matrix(symbols(f'g0:{r}'))
    y = AT * (G * g).multiply_elementwise(lavinBT * d)
    for i in range(m):
        assert expand(y[i] - sum(g[j] * d[i + j] for j in range(r))) == 0
    print(f"F({m},{r}) verified with the same B^T")

# F(4x4, 5x5) (ConvolutionWinograd45Transforms, ConvolutionWinograd.Filter8): the points 0, 1, -1, 2, -2, 1/2, -1/2 and
# infinity, with the code's B^T (its first row negated from the interpolation's sign) and G scaled to match it.
pts8 = [Rational(p) for p in (0, 1, -1, 2, -2, Rational(1, 2), Rational(-1, 2))]
def vander8(n):  # 8 x n
    V = zeros(8, n)
    for i, a in enumerate(pts8):
        for j in range(n): V[i, j] = a ** j
    V[7, n - 1] = 1
    return V
q = Rational(1, 4)
codeBT = Matrix([[1, 0, -21*q, 0, 21*q, 0, -1, 0], [0, 1, 1, -17*q, -17*q, 1, 1, 0], [0, -1, 1, 17*q, -17*q, -1, 1, 0],
                 [0, Rational(1, 2), q, Rational(-5, 2), -5*q, 2, 1, 0], [0, Rational(-1, 2), q, Rational(5, 2), -5*q, -2, 1, 0],
                 [0, 2, 4, Rational(-5, 2), -5, Rational(1, 2), 1, 0], [0, -2, 4, Rational(5, 2), -5, Rational(-1, 2), 1, 0],
                 [0, -1, 0, 21*q, 0, -21*q, 0, 1]])
interp8 = vander8(8).inv().T
D8 = [interp8[i, :].dot(codeBT[i, :]) / codeBT[i, :].dot(codeBT[i, :]) for i in range(8)]
assert all(interp8[i, :] == D8[i] * codeBT[i, :] for i in range(8)), "the code's 8x8 B^T is not a row scaling of the interpolation"
AT8, G8 = vander8(4).T, Matrix.diag(*D8) * vander8(5)
print("F(4,5): A^T =", AT8.tolist()); print("F(4,5): G =", G8.tolist())
d = Matrix(symbols('d0:8')); g = Matrix(symbols('g0:5'))
y = AT8 * (G8 * g).multiply_elementwise(codeBT * d)
for i in range(4):
    assert expand(y[i] - sum(g[j] * d[i + j] for j in range(5))) == 0
print("F(4,5) verified with its B^T")
