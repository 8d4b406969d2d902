"""Build the PDF and Word files of the sample knowledge base in data/sample/, byte-for-byte reproducibly.

The sample knowledge base is ten short documents about generative AI written for this project (original
prose, 600-1500 words each), in five formats so that every loader and every kind of citation is exercised:

    gans.pdf                            Generative adversarial networks (PDF, several pages, bookmarks)
    neural_network_training.pdf         Loss, gradients, backpropagation, SGD and Adam (PDF, several pages)
    variational_autoencoders.docx       VAEs (Word, Heading 1/2 styles, a table)
    evaluating_generative_models.docx   Inception Score, FID, precision/recall, likelihood (Word, a table)
    diffusion_models.md                 Diffusion models (Markdown)
    retrieval_augmented_generation.md   RAG (Markdown)
    transformers_and_gpt.html           Transformers and the GPT series (HTML)
    autoregressive_models.txt           Autoregressive models (plain text)
    diffusion_intro_zh.md               扩散模型简介, an introduction to diffusion models in Chinese (Markdown)
    rag_intro_zh.html                   检索增强生成（RAG）入门, RAG in Chinese (HTML)

The documents contain concrete, checkable facts (authors, years, numbers) for questions to target. Only the
PDF and Word files are generated here, from the text at the end of this script (a tiny markup: "= " title,
"# "/"## " headings, "|" table rows, blank lines between paragraphs); the other six are edited by hand.
Chinese stays out of the PDFs because the PDF core fonts cover Latin-1 only.

Run: .venv/bin/python scripts/make_sample.py [--out data/sample]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # the same bytes on every run
ZIP_DATE = (2024, 1, 1, 0, 0, 0)
_HEADING_SIZES = {1: 18, 2: 14, 3: 12}


def parse_markup(source: str) -> list[tuple[str, object]]:
    """Blocks ("title" | "h1" | "h2" | "p", text) or ("table", rows) from the small markup used below."""
    blocks: list[tuple[str, object]] = []
    for chunk in source.strip().split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines()]
        if lines[0].startswith("|"):
            blocks.append(
                ("table", [[cell.strip() for cell in line.strip("|").split("|")] for line in lines])
            )
        elif lines[0].startswith("= "):
            blocks.append(("title", lines[0][2:]))
        elif lines[0].startswith("#"):
            marks, _, text = lines[0].partition(" ")
            blocks.append((f"h{len(marks)}", text))
        else:
            blocks.append(("p", " ".join(lines)))
    return blocks


def _latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1; fail loudly rather than print '?' for a stray character."""
    text.encode("latin-1")
    return text


def render_pdf(blocks: list[tuple[str, object]], title: str) -> bytes:
    """A PDF with a bookmark per heading, so that the loader recovers heading paths."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(title)
    pdf.set_author("docqa sample corpus")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(22, 20, 22)
    pdf.add_page()
    for kind, value in blocks:
        kind = "h1" if kind == "title" else kind
        if kind.startswith("h"):
            level = int(kind[1])
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", _HEADING_SIZES[level])
            pdf.start_section(_latin1(value), level=level - 1)
            pdf.multi_cell(0, 8, _latin1(value), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "p":
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(0, 5.5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif kind == "table":
            _pdf_table(pdf, value)
    return bytes(pdf.output())


def _pdf_table(pdf, rows: list[list[str]]) -> None:
    pdf.set_font("Helvetica", size=10)
    with pdf.table(first_row_as_headings=True) as table:
        for row in rows:
            table.row([_latin1(cell) for cell in row])
    pdf.ln(3)


def render_docx(blocks: list[tuple[str, object]], title: str) -> bytes:
    """A Word file using the built-in Title / Heading N styles and a real table."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author = title, "docqa sample corpus"
    props.created = props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    for kind, value in blocks:
        if kind == "title":
            document.add_heading(value, level=0)
        elif kind.startswith("h"):
            document.add_heading(value, level=int(kind[1]))
        elif kind == "p":
            document.add_paragraph(value)
        elif kind == "table":
            table = document.add_table(rows=len(value), cols=len(value[0]))
            table.style = "Table Grid"
            for r, row in enumerate(value):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a .docx (a zip) with fixed timestamps so that rebuilding gives identical bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600; these are ordinary shared files
    os.replace(tmp, path)


def build(out_dir: Path) -> list[Path]:
    """Write every generated sample file into `out_dir` and return their paths."""
    written = []
    for name, source in DOCUMENTS.items():
        blocks = parse_markup(source)
        title = next(value for kind, value in blocks if kind in ("title", "h1"))
        render = render_pdf if name.endswith(".pdf") else render_docx
        path = out_dir / name
        _write_atomic(path, render(blocks, title))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: build the generated sample files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "data" / "sample"), help="output folder")
    args = parser.parse_args(argv)
    for path in build(Path(args.out)):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


# --- the prose ------------------------------------------------------------------------------------------

DOCUMENTS: dict[str, str] = {}

DOCUMENTS["gans.pdf"] = """
# Generative Adversarial Networks

A generative adversarial network (GAN) learns to produce new data, such as images, that look as if they came
from a training set. It does so by setting two neural networks against each other. The generator turns random
noise into candidate samples. The discriminator receives both real training examples and the generator's
output and tries to tell them apart. Each network improves by exploiting the other's mistakes, and if training
goes well the generator ends up producing samples that the discriminator cannot distinguish from real data.

## Origins

GANs were introduced by Ian Goodfellow and colleagues at the University of Montreal in 2014, in the paper
"Generative Adversarial Nets" presented at the NIPS 2014 conference (now called NeurIPS). The co-authors
included Yoshua Bengio, Aaron Courville and Sherjil Ozair among others. The paper framed generative modelling
as a game between two players rather than as explicit density estimation, which meant that a GAN never has to
write down or compute the probability of a sample. Yann LeCun later called adversarial training the most
interesting idea in machine learning in the previous ten years.

## The minimax game

Let G be the generator, which maps a noise vector z drawn from a simple prior such as a standard Gaussian to a
sample G(z), and let D be the discriminator, which outputs the probability that its input is real. The original
objective is a two-player minimax game with value function V(D, G): the discriminator maximises, and the
generator minimises, the expected value of log D(x) over real data x plus the expected value of
log(1 - D(G(z))) over noise z. In words, the discriminator is rewarded for assigning high probability to real
samples and low probability to generated ones, and the generator is rewarded for fooling it.

For a fixed generator the best possible discriminator has a closed form: D*(x) equals p_data(x) divided by the
sum p_data(x) + p_g(x), where p_g is the distribution of generated samples. Substituting it back shows that the
generator is then minimising the Jensen-Shannon divergence between the data distribution and its own
distribution. The global optimum is reached when p_g equals p_data; at that point the discriminator outputs
1/2 everywhere and the value of the game is -log 4.

## Training in practice

Training alternates between a few gradient steps on the discriminator and one step on the generator, each on
a minibatch. Early in training the generator is poor, the discriminator rejects its samples with confidence,
and the term log(1 - D(G(z))) saturates, giving the generator almost no gradient. The original paper therefore
recommended the non-saturating loss: instead of minimising log(1 - D(G(z))), the generator maximises
log D(G(z)). Both versions have the same fixed point, but the second gives strong gradients when the generator
is losing.

GAN training is notoriously unstable. The best-known failure is mode collapse, in which the generator maps
many different noise vectors to the same few outputs, for example producing only one kind of digit. Other
problems include oscillation without convergence and a discriminator that becomes too strong, leaving the
generator without a useful learning signal.

## Architectures

Deep Convolutional GANs (DCGAN), by Alec Radford, Luke Metz and Soumith Chintala in 2015, established a stable
recipe for convolutional GANs: replace pooling with strided convolutions, use batch normalization in both
networks, use ReLU activations in the generator and LeakyReLU in the discriminator, and train with the Adam
optimizer at a learning rate of 0.0002 with beta1 set to 0.5. A year earlier, in 2014, Mehdi Mirza and Simon
Osindero had described conditional GANs, which feed a label such as a digit class to both networks so that
the generator can be asked for a sample of a specific class.

Progressive growing of GANs (Tero Karras and colleagues at NVIDIA, 2017) started training at 4 x 4 pixels and
added layers until it produced 1024 x 1024 face images. StyleGAN (Karras, Laine and Aila, 2018) added a mapping
network of 8 fully connected layers that turns z into an intermediate 512-dimensional latent code w, which
controls each layer of the generator through adaptive instance normalization. StyleGAN was trained on the
Flickr-Faces-HQ (FFHQ) dataset of 70,000 high-quality face photographs at 1024 x 1024. BigGAN (Andrew Brock,
Jeff Donahue and Karen Simonyan, 2018) scaled class-conditional GANs to ImageNet and, at 128 x 128 resolution,
reached an Inception Score of 166.5 and a Frechet Inception Distance of 7.4.

## Better objectives

The Wasserstein GAN (WGAN), by Martin Arjovsky, Soumith Chintala and Leon Bottou in 2017, replaced the
Jensen-Shannon divergence with the Wasserstein-1 or earth mover's distance, whose gradients remain informative
even when the real and generated distributions barely overlap. The discriminator, renamed the critic, must be
1-Lipschitz; the original paper enforced this by clipping weights to a small range. WGAN-GP (Ishaan Gulrajani
and colleagues, 2017) replaced clipping with a gradient penalty that pushes the norm of the critic's gradient
towards 1, with a penalty coefficient lambda of 10. Spectral normalization (Takeru Miyato and colleagues, 2018)
offered a cheaper way to constrain the discriminator by dividing each weight matrix by its largest singular
value.

## Image-to-image translation

GANs are not limited to generating from noise. pix2pix (Phillip Isola and colleagues, 2017) learned mappings
between paired images, such as sketches to photographs, by combining an adversarial loss with an L1 loss.
CycleGAN (Jun-Yan Zhu and colleagues, 2017) learned translations such as horses to zebras from unpaired
collections, using a cycle-consistency loss: translating an image to the other domain and back should return
the original image.

## Summary

| Model | Year | Key idea |
| GAN | 2014 | Generator and discriminator in a minimax game |
| Conditional GAN | 2014 | Both networks receive a label |
| DCGAN | 2015 | Stable all-convolutional architecture |
| WGAN | 2017 | Earth mover's distance, weight clipping |
| WGAN-GP | 2017 | Gradient penalty with lambda = 10 |
| StyleGAN | 2018 | Mapping network and style-based generator |
| BigGAN | 2018 | Large-scale class-conditional ImageNet GAN |

GANs produce sharp samples quickly, in a single forward pass of the generator, but they are hard to train,
prone to mode collapse and provide no likelihood. Since about 2021 diffusion models have overtaken them for
most image generation tasks, although GANs remain popular where fast sampling matters.
"""

DOCUMENTS["neural_network_training.pdf"] = """
# How Neural Network Training Works

Training a neural network means adjusting its parameters, often millions or billions of numbers called
weights, so that the network's outputs match the desired outputs on a set of examples. Every modern network,
from a small digit classifier to a large language model or a diffusion model, is trained with the same loop:
compute a loss that measures how wrong the network is, compute the gradient of the loss with respect to every
parameter, and move the parameters a small step in the direction that reduces the loss.

## Loss functions

The loss turns the quality of a prediction into a single number to be minimised. For regression the usual
choice is the mean squared error, the average of the squared differences between predictions and targets.
For classification the network produces one score, or logit, per class; the softmax function turns the logits
into probabilities, and the cross-entropy loss is the negative logarithm of the probability assigned to the
correct class. A model that gives the right class a probability of 0.9 has a cross-entropy of about 0.105
nats, one that gives it 0.1 has a loss of about 2.303. Generative models use the same ingredients: a VAE
minimises a reconstruction loss plus a KL divergence, a DDPM minimises the mean squared error between true
and predicted noise, and a language model minimises the cross-entropy of the next token.

## Gradient descent

Gradient descent updates every parameter theta by subtracting the learning rate eta times the gradient of the
loss: theta is replaced by theta minus eta times grad L(theta). The gradient points in the direction of
steepest increase, so a small step against it lowers the loss. The learning rate is the most important
hyperparameter of training: too small and progress is slow, too large and the loss oscillates or diverges.

Computing the gradient over the entire training set at every step is too expensive, so in practice it is
estimated on a small random minibatch of examples, commonly 32 to a few thousand. This is stochastic gradient
descent (SGD). The noise in the estimate is not only tolerated but often helpful, because it lets the
optimizer escape poor regions of the loss surface. One pass over the whole training set is called an epoch.

## Backpropagation

Backpropagation computes the gradient of the loss with respect to every parameter in time proportional to one
forward pass. It applies the chain rule of calculus from the output back towards the input: each layer
receives the gradient of the loss with respect to its output, multiplies it by its local derivative, and
passes the gradient with respect to its input on to the layer below. The method was popularised for neural
networks by David Rumelhart, Geoffrey Hinton and Ronald Williams in their 1986 paper in Nature, "Learning
representations by back-propagating errors". Modern frameworks such as PyTorch and JAX implement it as
reverse-mode automatic differentiation: they record the operations of the forward pass and replay them
backwards, so the programmer never writes derivative code by hand.

## Momentum and Adam

Plain SGD can be slow in ravines of the loss surface, where the gradient points mostly across the ravine rather
than along it. Momentum, which goes back to Boris Polyak in 1964, keeps a running velocity that accumulates
past gradients, typically with a coefficient of 0.9, so that consistent directions speed up and oscillating
ones cancel out.

Adam, introduced by Diederik Kingma and Jimmy Ba in 2014 and published at ICLR 2015, combines momentum with a
per-parameter step size. It keeps an exponential moving average of the gradients (the first moment) and of
the squared gradients (the second moment), corrects both for their bias towards zero in the first steps, and
divides the first by the square root of the second. Its default settings, a learning rate of 0.001, beta1 of
0.9, beta2 of 0.999 and epsilon of 1e-8, work well for many problems, which is a large part of its
popularity. AdamW (Ilya Loshchilov and Frank Hutter, 2017) decouples weight decay from the gradient-based
update and is the usual choice for training transformers.

## Learning-rate schedules

The learning rate is rarely constant. Large models are usually trained with a warm-up, in which the rate rises
linearly from near zero over the first few hundred or thousand steps, followed by a decay. Cosine decay, which
lowers the rate along half a cosine curve, was popularised by the SGDR paper of Loshchilov and Hutter (2016).

## Initialization and normalization

Where the parameters start matters. If the initial weights are too small, signals and gradients shrink from
layer to layer; if too large, they explode. Xavier or Glorot initialization (Xavier Glorot and Yoshua Bengio,
2010) scales the initial weights by the number of inputs and outputs of each layer. He initialization (Kaiming
He and colleagues, 2015) uses a variance of 2 divided by the number of inputs, which suits ReLU activations.

Normalization layers keep activations in a healthy range during training. Batch normalization (Sergey Ioffe
and Christian Szegedy, 2015) normalises each feature over the minibatch. Layer normalization (Jimmy Ba, Jamie
Kiros and Geoffrey Hinton, 2016) normalises over the features of each example instead and is the standard
choice in transformers. Residual connections, introduced with the ResNet architecture by Kaiming He and
colleagues in 2015, add each block's input to its output; they let gradients flow through very deep networks
and allowed a 152-layer ResNet to win the ImageNet competition in 2015.

## Generalization

The goal is not a low loss on the training set but good predictions on new data. A network that memorises its
training examples overfits: its training loss keeps falling while its loss on a held-out validation set
starts to rise. Common remedies are more data, data augmentation, weight decay, early stopping when the
validation loss stops improving, and dropout (Nitish Srivastava, Geoffrey Hinton and colleagues, 2014), which
sets a random fraction of activations to zero during training, often with a probability of 0.5.

## Training at scale

Large models are trained with mixed precision: most arithmetic runs in 16-bit floating point on the GPU, a
32-bit master copy of the weights is kept for the updates, and the loss is multiplied by a scale factor so
that small gradients do not underflow (Paulius Micikevicius and colleagues, 2017). Training is spread across
many GPUs by splitting the data, the layers or the individual weight matrices between them.
"""

DOCUMENTS["variational_autoencoders.docx"] = """
= Variational Autoencoders

A variational autoencoder (VAE) is a generative model that learns a compressed, continuous description of its
training data and can turn random points of that description into new samples. It pairs two neural networks:
an encoder that maps an input to a distribution over latent variables, and a decoder that maps a latent
vector back to a distribution over inputs. Unlike a GAN, a VAE is trained by maximising a lower bound on the
log-likelihood of the data, which makes training stable and gives a principled measure of how well the model
fits.

# Origins

The VAE was introduced by Diederik Kingma and Max Welling in the paper "Auto-Encoding Variational Bayes",
posted in December 2013 and published at ICLR 2014. Danilo Rezende, Shakir Mohamed and Daan Wierstra of
DeepMind independently described the same idea in 2014 under the name stochastic backpropagation. Both papers
showed how to train a deep latent-variable model with ordinary gradient descent by making the sampling step
differentiable.

# The model

A VAE assumes that each data point x is generated from an unobserved latent vector z. The prior p(z) is
usually a standard normal distribution with zero mean and identity covariance. The decoder, with parameters
theta, defines the likelihood p_theta(x | z); for images it is often a Gaussian or a Bernoulli distribution
per pixel. The true posterior p(z | x) is intractable, so an encoder network with parameters phi produces an
approximate posterior q_phi(z | x), typically a Gaussian with a diagonal covariance whose mean mu and standard
deviation sigma are outputs of the network.

## The evidence lower bound

Training maximises the evidence lower bound (ELBO). The ELBO equals the expected log-likelihood of x under the
decoder, with z drawn from the encoder, minus the Kullback-Leibler (KL) divergence between the encoder's
distribution q_phi(z | x) and the prior p(z). The first term rewards accurate reconstructions; the second
keeps the encoder's distributions close to the prior, so that points sampled from the prior decode to
plausible data. The gap between the true log-likelihood log p(x) and the ELBO is exactly the KL divergence
between the approximate posterior and the true posterior, so a better encoder gives a tighter bound.

When both q_phi(z | x) and p(z) are Gaussian, the KL term has a closed form: minus one half times the sum, over
the latent dimensions, of 1 plus log sigma squared minus mu squared minus sigma squared. Only the
reconstruction term has to be estimated by sampling, and a single sample per data point is usually enough.

## The reparameterization trick

Sampling z from q_phi(z | x) is not a differentiable operation, so gradients cannot flow from the decoder back
into the encoder through it. The reparameterization trick rewrites the sample as z = mu + sigma * epsilon,
where epsilon is drawn from a standard normal distribution and the product is taken element by element. The
randomness now enters through epsilon, which does not depend on the parameters, and mu and sigma are ordinary
differentiable outputs of the encoder. This single idea is what made VAEs trainable with backpropagation.

# Generating and interpolating

After training, the encoder is not needed for generation: one draws z from the prior and passes it through
the decoder. Because the KL term organises the latent space smoothly, nearby latent vectors decode to similar
outputs, and walking along a straight line between the latent codes of two images produces a gradual morph
between them. Latent arithmetic, such as adding a direction associated with smiling to the code of a face,
often works as well.

# Limitations

Samples from a VAE with a Gaussian decoder tend to be blurry, because the likelihood term behaves like a mean
squared error, which averages over plausible outputs instead of committing to one. A second problem,
posterior collapse, appears when the decoder is powerful enough to model the data on its own, for example an
autoregressive decoder for text: the encoder's output is ignored and the KL term drops to zero. Samuel Bowman
and colleagues reported this for sentence VAEs in 2016 and proposed KL annealing, which raises the weight of
the KL term gradually from 0 to 1 during training.

# Variants

The beta-VAE (Irina Higgins and colleagues, ICLR 2017) multiplies the KL term by a factor beta greater than 1,
which pressures the latent dimensions to become independent and often disentangles factors of variation such
as position, scale and rotation. The conditional VAE (Kihyuk Sohn, Honglak Lee and Xinchen Yan, 2015)
conditions both networks on a label. The importance weighted autoencoder (Yuri Burda, Roger Grosse and Ruslan
Salakhutdinov, 2015) draws several samples per data point and obtains a strictly tighter bound.

The vector-quantised VAE (VQ-VAE), by Aaron van den Oord, Oriol Vinyals and Koray Kavukcuoglu in 2017, replaces
the continuous latent with discrete codes: each encoder output is snapped to its nearest entry in a learned
codebook, and gradients are copied past the non-differentiable step with the straight-through estimator.
A separate autoregressive model is then trained to generate sequences of codes. VQ-VAE-2 (Ali Razavi and
colleagues, 2019) extended the idea to a hierarchy of codes and generated high-quality ImageNet samples.

| Variant | Year | Main idea |
| VAE | 2013 | Encoder, decoder and the ELBO with the reparameterization trick |
| Conditional VAE | 2015 | Both networks conditioned on a label |
| IWAE | 2015 | Several importance samples give a tighter bound |
| beta-VAE | 2017 | Weight beta > 1 on the KL term for disentanglement |
| VQ-VAE | 2017 | Discrete latent codes from a learned codebook |
| VQ-VAE-2 | 2019 | Hierarchical discrete codes |

# VAEs inside larger systems

VAEs remain important as components. Latent diffusion models such as Stable Diffusion (Robin Rombach and
colleagues, 2022) first train a KL-regularised autoencoder that compresses a 512 x 512 image into a
64 x 64 x 4 latent and then run the diffusion process in that smaller space, which makes training and
sampling far cheaper. Discrete autoencoders in the VQ-VAE family likewise turn images and audio into tokens
that transformer language models can generate.
"""

DOCUMENTS["evaluating_generative_models.docx"] = """
= Evaluating Generative Models

Evaluating a generative model is harder than evaluating a classifier. There is no single correct output to
compare against: a good image generator should produce samples that are realistic (fidelity), that cover the
variety of the training data (diversity), and that are new rather than copies of training examples (novelty).
No single number captures all three, so practitioners combine likelihood-based measures, feature-based
sample metrics and human judgement.

# Likelihood

Models that define a likelihood, such as VAEs, autoregressive models, normalizing flows and diffusion models
(through a variational bound), can be scored by the average negative log-likelihood of held-out data. For
images the result is reported in bits per dimension; for text it is reported as perplexity, the exponential
of the average negative log-likelihood per token. Lower is better in both cases. Lucas Theis, Aaron van den
Oord and Matthias Bethge showed in 2016, in "A note on the evaluation of generative models", that likelihood
and visual sample quality are largely independent: a model can have an excellent likelihood and poor samples,
or the reverse. Likelihood therefore complements, but does not replace, sample-based metrics.

# Inception Score

The Inception Score (IS) was proposed by Tim Salimans and colleagues in 2016 in "Improved Techniques for
Training GANs". It runs generated images through an Inception-v3 network trained on ImageNet. A good sample
should be classified confidently, so its conditional label distribution p(y | x) should have low entropy,
while the set of samples should cover many classes, so the marginal distribution p(y) should have high
entropy. The score is the exponential of the average KL divergence between p(y | x) and p(y). Higher is
better; the minimum is 1 and the maximum is the number of classes, 1000 for ImageNet. The Inception Score
never looks at real data, so it cannot notice that samples are unrealistic in ways the classifier ignores,
and it is only meaningful for images that resemble ImageNet classes.

# Frechet Inception Distance

The Frechet Inception Distance (FID) was introduced by Martin Heusel and colleagues in 2017, in the paper
"GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium". It compares generated
images with real images in the feature space of the same Inception-v3 network, using the 2048-dimensional
activations of its final pooling layer. A multivariate Gaussian is fitted to the features of each set, with
means mu_r and mu_g and covariances Sigma_r and Sigma_g, and the FID is the Frechet distance between the two
Gaussians: the squared Euclidean distance between the means plus the trace of Sigma_r + Sigma_g minus twice
the matrix square root of the product Sigma_r Sigma_g. Lower is better, and identical distributions give 0.

FID responds to both fidelity and diversity and agrees reasonably well with human judgement, which made it
the standard metric for image generation. It has known pitfalls. It is biased upwards when computed from few
samples, so scores are only comparable when they use the same number of images, conventionally 50,000
generated samples. Differences in image resizing and compression between implementations change the score.
And a Frechet distance computed with a different feature network, for example a small classifier trained on
MNIST digits, measures something similar in spirit but is not comparable with Inception-based FID values.

# Kernel Inception Distance

The Kernel Inception Distance (KID), proposed by Mikolaj Binkowski and colleagues in 2018, replaces the
Gaussian assumption with the squared maximum mean discrepancy under a cubic polynomial kernel on the same
Inception features. Its estimator is unbiased, so KID is more reliable than FID when only a few thousand
samples are available.

# Precision and recall

A single distance cannot say whether a model fails by producing unrealistic samples or by missing parts of the
data. Mehdi Sajjadi and colleagues (2018) proposed measuring the two separately as precision and recall for
distributions. Tuomas Kynkaanniemi and colleagues (2019) gave the improved precision and recall metric that is
widely used today: each set of feature vectors is turned into a manifold estimate made of balls reaching to
each point's k-th nearest neighbour, with k = 3 by default. Precision is the fraction of generated samples that
fall within the real manifold, a measure of fidelity; recall is the fraction of real samples that fall within
the generated manifold, a measure of diversity. A model that suffers from mode collapse has high precision
but low recall.

# Text and multimodal models

For text-to-image models, the alignment between an image and its prompt is often scored with CLIPScore (Jack
Hessel and colleagues, 2021), the cosine similarity between CLIP embeddings of the image and the text. For
machine translation and summarisation, overlap metrics such as BLEU (Kishore Papineni and colleagues, 2002)
and ROUGE (Chin-Yew Lin, 2004) compare outputs with reference texts. Open-ended chat models are increasingly
compared by human preference: Chatbot Arena, launched in 2023 by the LMSYS group, ranks models with Elo-style
ratings computed from pairwise votes. For retrieval-augmented systems, it also matters whether each claim in
an answer is supported by the passage it cites.

# Memorization

A generator that reproduces its training images would score well on most metrics while being useless or even
harmful. A simple check is to retrieve, for each generated sample, its nearest neighbour in the training set
and inspect the closest pairs. Nicholas Carlini and colleagues showed in 2023 that large diffusion models can
reproduce some training images almost exactly, which is why memorization checks belong in every evaluation.

| Metric | Introduced | Better when | Needs real data |
| Inception Score | 2016 | higher | no |
| FID | 2017 | lower | yes |
| KID | 2018 | lower | yes |
| Improved precision and recall | 2019 | higher | yes |
| CLIPScore | 2021 | higher | no (needs the prompt) |
| Bits per dimension | - | lower | held-out data |
"""

if __name__ == "__main__":
    sys.exit(main())
