// torchvision's VisionTransformer (vision_transformer.py) as vit_b_16: module
// tree, names, initialisation and forward as torchvision has them. Options:
// numClasses, imageSize, dropout, attentionDropout.
#include "models.h"

#include <cmath>

namespace tt {

namespace {

// nn.MultiheadAttention's out_proj is this Linear subclass; it keeps its class name in the tree.
struct OutProj : Layer {
  OutProj(int64_t in, int64_t out) : Layer("NonDynamicallyQuantizableLinear") {
    weight = register_parameter("weight", torch::empty({out, in}));
    bias = register_parameter("bias", torch::zeros({out}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // Linear's kaiming_uniform_(a=sqrt(5))
    torch::NoGradGuard noGrad;
    weight.uniform_(-bound, bound);
  }

  torch::Tensor forward(const torch::Tensor& x) override { return torch::linear(x, weight, bias); }

  torch::Tensor weight, bias;
};

// nn.MultiheadAttention(batch_first=True) as self-attention with one packed
// input projection (in_proj_weight, in_proj_bias), as torchvision uses it.
struct MultiheadAttention : Layer {
  MultiheadAttention(int64_t dim, int64_t heads, double dropout) : Layer("MultiheadAttention"), heads(heads), dropout(dropout) {
    in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * dim, dim}));
    in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * dim}));
    Add("out_proj", std::make_shared<OutProj>(dim, dim));
    torch::NoGradGuard noGrad;
    torch::nn::init::xavier_uniform_(in_proj_weight);
    torch::nn::init::zeros_(std::dynamic_pointer_cast<OutProj>(Slot("out_proj"))->bias);
  }

  // x: (batch, sequence, dim). Scaled dot-product attention per head.
  torch::Tensor forward(const torch::Tensor& x) override {
    const int64_t n = x.size(0), l = x.size(1), e = x.size(2), d = e / heads;
    auto qkv = torch::linear(x, in_proj_weight, in_proj_bias).chunk(3, -1);
    auto split = [&](const torch::Tensor& t) { return t.reshape({n, l, heads, d}).transpose(1, 2); };
    torch::Tensor q = split(qkv[0]) / std::sqrt(static_cast<double>(d)), k = split(qkv[1]), v = split(qkv[2]);
    torch::Tensor attention = torch::softmax(torch::matmul(q, k.transpose(-2, -1)), -1);
    if (dropout > 0) attention = torch::dropout(attention, dropout, is_training());
    return Call("out_proj", torch::matmul(attention, v).transpose(1, 2).reshape({n, l, e}));
  }

  int64_t heads;
  double dropout;
  torch::Tensor in_proj_weight, in_proj_bias;
};

torch::nn::LayerNorm Norm(int64_t dim) { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)); }
torch::nn::Dropout Drop(double p) { return torch::nn::Dropout(torch::nn::DropoutOptions(p)); }

struct EncoderBlock : Layer {
  EncoderBlock(int64_t heads, int64_t dim, int64_t mlpDim, double dropout, double attentionDropout) : Layer("EncoderBlock") {
    Add("ln_1", Norm(dim));
    Add("self_attention", std::make_shared<MultiheadAttention>(dim, heads, attentionDropout));
    Add("dropout", Drop(dropout));
    Add("ln_2", Norm(dim));
    auto mlp = std::make_shared<Seq>("MLPBlock");
    mlp->Push(Dense(dim, mlpDim).ptr()).Push(torch::nn::GELU().ptr()).Push(Drop(dropout).ptr());
    mlp->Push(Dense(mlpDim, dim).ptr()).Push(Drop(dropout).ptr());
    torch::NoGradGuard noGrad;
    for (auto& module : mlp->modules(/*include_self=*/false)) {
      if (auto* linear = module->as<torch::nn::Linear>()) {
        torch::nn::init::xavier_uniform_(linear->weight);
        torch::nn::init::normal_(linear->bias, 0, 1e-6);
      }
    }
    Add("mlp", mlp);
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    torch::Tensor x = Call("dropout", Call("self_attention", Call("ln_1", input))) + input;
    return x + Call("mlp", Call("ln_2", x));
  }
};

struct Encoder : Layer {
  Encoder(int64_t seqLength, int64_t layers, int64_t heads, int64_t dim, int64_t mlpDim, double dropout, double attentionDropout)
      : Layer("Encoder") {
    pos_embedding = register_parameter("pos_embedding", torch::empty({1, seqLength, dim}));
    {
      torch::NoGradGuard noGrad;
      pos_embedding.normal_(0, 0.02);
    }
    Add("dropout", Drop(dropout));
    auto blocks = std::make_shared<Seq>();
    for (int64_t i = 0; i < layers; ++i) {
      blocks->Add("encoder_layer_" + std::to_string(i), std::make_shared<EncoderBlock>(heads, dim, mlpDim, dropout, attentionDropout));
    }
    Add("layers", blocks);
    Add("ln", Norm(dim));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    if (x.dim() != 3 || x.size(1) != pos_embedding.size(1)) {
      throw std::invalid_argument("Encoder expected (batch, " + std::to_string(pos_embedding.size(1)) + ", hidden) input");
    }
    return Call("ln", Call("layers", Call("dropout", x + pos_embedding)));
  }

  torch::Tensor pos_embedding;
};

struct VisionTransformer : Layer {
  VisionTransformer(int64_t imageSize, int64_t patchSize, int64_t layers, int64_t heads, int64_t dim, int64_t mlpDim, double dropout,
                    double attentionDropout, int64_t numClasses)
      : Layer("VisionTransformer"), imageSize(imageSize), patchSize(patchSize), dim(dim) {
    if (imageSize % patchSize != 0) {
      throw std::invalid_argument("imageSize " + std::to_string(imageSize) + " is not a multiple of the patch size " + std::to_string(patchSize));
    }
    auto proj = Add("conv_proj", Conv(3, dim, patchSize, patchSize, 0, 1, /*bias=*/true));
    class_token = register_parameter("class_token", torch::zeros({1, 1, dim}));
    const int64_t seqLength = (imageSize / patchSize) * (imageSize / patchSize) + 1;
    Add("encoder", std::make_shared<Encoder>(seqLength, layers, heads, dim, mlpDim, dropout, attentionDropout));
    auto head = Dense(dim, numClasses);
    Add("heads", std::make_shared<Seq>()).get()->Add("head", head);

    // torchvision's trunc_normal_(std=sqrt(1/fan_in)) truncates at +-2 absolute,
    // 30 standard deviations out here: a plain normal draw is the same distribution.
    torch::NoGradGuard noGrad;
    proj->weight.normal_(0, std::sqrt(1.0 / (3.0 * patchSize * patchSize)));
    torch::nn::init::zeros_(proj->bias);
    torch::nn::init::zeros_(head->weight);
    torch::nn::init::zeros_(head->bias);
  }

  // The class token's encoding, heads.head's input.
  torch::Tensor features(const torch::Tensor& x) override {
    if (x.dim() != 4 || x.size(2) != imageSize || x.size(3) != imageSize) {
      throw std::invalid_argument("VisionTransformer expected (batch, 3, " + std::to_string(imageSize) + ", " + std::to_string(imageSize) +
                                  ") images; got " + ShapeOf(x));
    }
    const int64_t n = x.size(0), cells = (imageSize / patchSize) * (imageSize / patchSize);
    torch::Tensor patches = Call("conv_proj", x).reshape({n, dim, cells}).permute({0, 2, 1});
    torch::Tensor tokens = torch::cat({class_token.expand({n, -1, -1}), patches}, 1);
    return Call("encoder", tokens).select(1, 0);
  }

  torch::Tensor forward(const torch::Tensor& x) override { return Call("heads", features(x)); }

  static std::string ShapeOf(const torch::Tensor& x) {
    std::string s = "(";
    for (int64_t i = 0; i < x.dim(); ++i) s += (i ? ", " : "") + std::to_string(x.size(i));
    return s + ")";
  }

  int64_t imageSize, patchSize, dim;
  torch::Tensor class_token;
};

}  // namespace

Arch VitB16(const ArchOptions& o) {
  auto net = std::make_shared<VisionTransformer>(o.Int("imageSize", 224), 16, 12, 12, 768, 3072, o.Number("dropout", 0.0),
                                                 o.Number("attentionDropout", 0.0), o.Int("numClasses", 1000));
  return {net, "heads.head"};
}

}  // namespace tt
