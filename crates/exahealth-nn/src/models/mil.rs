//! Attention-based multiple-instance learning (Ilse, Tomczak and Welling
//! 2018): a bag of patch embeddings is embedded by a linear layer, weighted by
//! gated attention `a_k = softmax_k(w^T (tanh(V h_k) * sigmoid(U h_k)))`,
//! pooled as `z = sum_k a_k h_k` and classified. The attention weights say
//! which patches drove the slide-level call.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::{Device, Tensor};

/// Builds an [`AttentionMil`].
#[derive(Config, Debug)]
pub struct AttentionMilConfig {
    /// Features per instance (e.g. 512 for ResNet-18 embeddings).
    #[config(default = 512)]
    pub in_features: usize,
    /// Width of the instance embedding.
    #[config(default = 256)]
    pub hidden: usize,
    /// Width of the attention network.
    #[config(default = 128)]
    pub attention: usize,
    /// Output classes.
    #[config(default = 2)]
    pub num_classes: usize,
}

/// Gated-attention MIL pooling and classifier; see the module docs.
#[derive(Module, Debug)]
pub struct AttentionMil {
    embed: Linear,
    attention_v: Linear,
    attention_u: Linear,
    attention_w: Linear,
    classifier: Linear,
}

impl AttentionMilConfig {
    /// Allocates the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> AttentionMil {
        AttentionMil {
            embed: LinearConfig::new(self.in_features, self.hidden).init(device),
            attention_v: LinearConfig::new(self.hidden, self.attention).init(device),
            attention_u: LinearConfig::new(self.hidden, self.attention).init(device),
            attention_w: LinearConfig::new(self.attention, 1).init(device),
            classifier: LinearConfig::new(self.hidden, self.num_classes).init(device),
        }
    }
}

impl AttentionMil {
    /// `[bags, instances, features]` to `([bags, classes]` logits,
    /// `[bags, instances]` attention weights summing to one per bag).
    pub fn forward_with_attention(&self, bags: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
        let h = relu(self.embed.forward(bags));
        let gate = self.attention_v.forward(h.clone()).tanh()
            * sigmoid(self.attention_u.forward(h.clone()));
        let scores = self.attention_w.forward(gate); // [b, k, 1]
        let attention = softmax(scores, 1);
        let pooled = (h * attention.clone()).sum_dim(1).squeeze_dim::<2>(1);
        (
            self.classifier.forward(pooled),
            attention.squeeze_dim::<2>(2),
        )
    }

    /// `[bags, instances, features]` to `[bags, classes]` logits.
    pub fn forward(&self, bags: Tensor<3>) -> Tensor<2> {
        self.forward_with_attention(bags).0
    }
}
