/* core/nn/init.h — weight initialisers with PyTorch's (torch.nn.init) formulas, driven by the counter-based RNG.
 *
 * Each call fills t->data (a parameter slab on any device, drawn there by its rng kernels) from the cursor `r`
 * and advances it by numel(t), so the values depend only on (seed, stream, counter) — never on the thread count or
 * the device. Use one hl_rng_split per layer to
 * keep layers independent of each other's sizes.
 *
 * Fans (torch.nn.init._calculate_fan_in_and_fan_out), for t of >= 2 dims [O, I, k...]:
 *     receptive = prod(shape[2:]),  fan_in = I·receptive,  fan_out = O·receptive.
 *   A linear weight [O,I] has fan_in I; a conv weight [O,C,kh,kw] fan_in C·kh·kw; a conv-transpose weight
 *   [C,O,kh,kw] gets fan_in O·kh·kw (PyTorch's convention, kept for parity).
 * Gains (torch.nn.init.calculate_gain): linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+a²)).
 *
 *   kaiming_normal:  N(0, std²),         std = gain/√fan
 *   kaiming_uniform: U(−b, b),           b = √3·gain/√fan
 *   xavier_normal:   N(0, std²),         std = gain·√(2/(fan_in+fan_out))
 *   xavier_uniform:  U(−b, b),           b = √3·gain·√(2/(fan_in+fan_out))
 *   normal(mean, std), uniform(lo, hi), constant(v)
 *
 * Uniform draws have 24-bit resolution in [lo, hi); normals are Box-Muller (core/rng.h).
 * Fans of a tensor with < 2 dims are a programming error (HL_ASSERT), as in PyTorch.
 */
#ifndef HL_NN_INIT_H
#define HL_NN_INIT_H

#include "core/rng.h"
#include "core/tensor.h"

typedef enum hl_nonlin {
    HL_NONLIN_LINEAR,     /* also conv / identity */
    HL_NONLIN_SIGMOID,
    HL_NONLIN_TANH,
    HL_NONLIN_RELU,
    HL_NONLIN_LEAKY_RELU, /* param = negative slope */
    HL_NONLIN_COUNT
} hl_nonlin;

typedef enum hl_fan_mode { HL_FAN_IN, HL_FAN_OUT, HL_FAN_MODE_COUNT } hl_fan_mode;

/* calculate_gain(nonlinearity, param); param is the leaky-relu slope (PyTorch's default 0.01 when used so). */
float hl_init_gain(hl_nonlin nl, float param);
void hl_init_fans(const hl_tensor *t, int64_t *fan_in, int64_t *fan_out);

/* a = leaky-relu slope used for the gain when nl == HL_NONLIN_LEAKY_RELU (PyTorch's signature: a, mode, nl). */
void hl_init_kaiming_normal(hl_tensor *t, hl_rng *r, float a, hl_fan_mode mode, hl_nonlin nl);
void hl_init_kaiming_uniform(hl_tensor *t, hl_rng *r, float a, hl_fan_mode mode, hl_nonlin nl);
void hl_init_xavier_normal(hl_tensor *t, hl_rng *r, float gain);
void hl_init_xavier_uniform(hl_tensor *t, hl_rng *r, float gain);
void hl_init_normal(hl_tensor *t, hl_rng *r, float mean, float std);
void hl_init_uniform(hl_tensor *t, hl_rng *r, float lo, float hi);
void hl_init_constant(hl_tensor *t, float v);

#endif
