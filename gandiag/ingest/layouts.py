"""The layouts of console logs gandiag knows: one declarative entry per way a training script prints.

A layout says how a record is recognised and what its names mean; the
reading itself (:mod:`gandiag.ingest.console`) is shared. Each entry holds:

- ``template``: how the start of a line gives the step (``"[{epoch0}/{epochs}][{batch0}/{batches}]"``);
  fields ``step``, ``epoch``, ``batch`` (1-based as printed), ``step0``, ``epoch0``, ``batch0``
  (0-based) and the totals ``epochs``, ``batches``; a space stands for any run of blanks.
  Without a template the step comes from labelled ``epoch``/``iter``/``step`` numbers.
- ``match``: a regular expression the rest of the line must contain for the layout to claim it
  (it tells apart codebases whose lines start alike).
- ``record``: ``line`` (one line a record), ``block`` (a line with the step, then one
  ``name value`` pair per line, as pix2pix-tensorflow prints) or ``table`` (a header row of
  names, then rows of values; trailing columns such as a timestamp are ignored). Blocks and
  tables are turned into one line a record before the lines are read
  (:mod:`gandiag.ingest.assemble`).
- ``roles``: names (as :func:`gandiag.history.roles.normalize_name` folds them) that mean a role in this
  codebase although the alias table does not say so, or ``""`` for a name the alias table would
  misread (BasicSR's ``D_real`` is the discriminator's output, not its loss).
- ``combine``: several printed terms that make one role, and how (``max`` for the
  discriminator's terms: per the outcome definition the discriminator has won only when every
  term is near 0; ``mean`` for the generator's adversarial terms).
- ``family``: the loss the codebase uses by default, with the reason (evidence for the loss
  family, shown by ``inspect``; ``--loss-family`` overrides it).
- ``codebase`` and ``source``: whose logging code the layout follows (the fixture in
  ``fixtures/console/layouts/`` cites it too).

Grouped terms (``[G - gan: 2.1, rec: 0.2] [D - real: 0.5, fake: 0.3]`` or
``[D] real 0.05 fake 0.17 [G] fake 2.3``) are read with each name prefixed by its
group (``G gan``, ``D real``): the group gives the role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from gandiag.history.model import Reduction

_TUTORIAL_PCT = frozenset({"a", "a1", "a2"})


@lru_cache(maxsize=64)
def compile_template(template: str) -> re.Pattern[str]:
    """The regular expression of a step template (see the module docstring)."""
    parts = re.split(r"(\{\w+\}| )", template)
    regex = "".join(
        rf"(?P<{p[1:-1]}>\d{{1,15}})" if p.startswith("{") else r"\s*" if p == " " else re.escape(p)
        for p in parts
        if p
    )
    return re.compile(r"\s*" + regex, re.IGNORECASE)


@dataclass(frozen=True)
class Layout:
    """A printed layout: how a record is recognised and what its names mean."""

    name: str
    template: str
    example: str
    source: str
    codebase: str = ""
    reduction: Reduction = Reduction.MEAN
    percent_names: frozenset[str] = frozenset()
    epoch_rows: bool = False  # one row per epoch (the step unit is the epoch)
    match: str = ""
    record: str = "line"
    roles: dict[str, str] = field(default_factory=dict)
    combine: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    family: tuple[str, str] | None = None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return compile_template(self.template) if self.template else None

    @cached_property
    def matcher(self) -> re.Pattern[str] | None:
        return re.compile(self.match, re.IGNORECASE) if self.match else None

    def __hash__(self) -> int:
        return hash(self.name)


_BASICSR_ROLES = {"l_d": "d_loss", "l_d_real": "d_loss_real", "l_d_fake": "d_loss_fake", "l_g_gan": "g_loss",
                  "d_real": "", "d_fake": "", "real_score": "", "fake_score": "", "out_d_real": "", "out_d_fake": ""}
_MMAGIC_ROLES = {"loss_disc_real": "d_loss_real", "loss_disc_fake": "d_loss_fake", "loss_disc_fake_g": "g_loss",
                 "loss_gan": "g_loss", "loss_gen": "g_loss", "disc_loss": "d_loss", "gen_loss": "g_loss"}

#: Layouts in the order they are tried (those with a ``match`` signature before the others). The last two need no template: the index comes from labelled
#: ``epoch``/``step``/``batch`` numbers, or from the line order.
LAYOUTS: tuple[Layout, ...] = (
    Layout("tutorial-epoch-batch", ">{epoch}, {batch}/{batches},",
           ">1, 4/390, d1=0.522, d2=0.709 g=0.680", "GAN failure-mode tutorial (CIFAR-10 DCGAN)",
           codebase="GAN tutorial", percent_names=_TUTORIAL_PCT),
    Layout("tutorial", ">{step},", ">12, d1=0.593, d2=0.546 g=1.330, a1=76, a2=82",
           "GAN failure-mode tutorial", codebase="GAN tutorial", percent_names=_TUTORIAL_PCT),
    Layout("srgan-tqdm", "[{epoch}/{epochs}]",
           "[12/100] Loss_D: 1.0000 Loss_G: 0.0071 D(x): 1.0000 D(G(z)): 1.0000: 100%|###| 8/8",
           "https://github.com/leftthomas/SRGAN/blob/master/train.py (tqdm set_description)",
           codebase="leftthomas/SRGAN", match=r"\bLoss_D:.*\bLoss_G:.*D\(G\(z\)\):\s*\S+\s*:",
           epoch_rows=True),
    Layout("wgan-reference", "[{epoch0}/{epochs}][{batch0}/{batches}][{step}]",
           "[0/25][100/782][120] Loss_D: -1.321 Loss_G: 0.651 Loss_D_real: -0.62 Loss_D_fake: 0.70",
           "https://github.com/martinarjovsky/WassersteinGAN/blob/master/main.py",
           codebase="martinarjovsky/WassersteinGAN", family=("wgan", "the WGAN reference code's critic")),
    Layout("pytorch-dcgan", "[{epoch0}/{epochs}][{batch0}/{batches}]",
           "[0/5][50/1583]\tLoss_D: 0.0154\tLoss_G: 35.5240\tD(x): 0.9927\tD(G(z)): 0.0000 / 0.0000",
           "https://github.com/pytorch/examples/blob/main/dcgan/main.py; PyTorch DCGAN tutorial",
           codebase="pytorch/examples dcgan, PyTorch DCGAN tutorial", reduction=Reduction.SUM),
    Layout("pytorch-dcgan-short", "[{epoch0}/{epochs}][{batch0}]",
           "[0/30][6] D_Loss: 0.561936 G_Loss: 2.944061", "gotorch and other ports of the PyTorch DCGAN example",
           codebase="wangkuiyi/gotorch", reduction=Reduction.SUM),
    Layout("pytorch-gan-grouped", "[Epoch {epoch0}/{epochs}] [Batch {batch0}/{batches}]",
           "[Epoch 3/20] [Batch 120/900] [G - gan1: 2.1, gan2: 1.9, rec: 0.2] [D - real: 0.5, fake1: 0.3, fake2: 0.4]",
           "multi-discriminator variants of PyTorch-GAN's print", codebase="PyTorch-GAN derivatives",
           match=r"\b[GD]_(?:gan|adv|real|fake|rec)\w*:",
           combine={"g_loss": ("mean", ("g_gan", "g_gan1", "g_gan2", "g_gan3", "g_adv", "g_adv1", "g_adv2")),
                    "d_loss_real": ("max", ("d_real", "d_real1", "d_real2", "d_real3")),
                    "d_loss_fake": ("max", ("d_fake", "d_fake1", "d_fake2", "d_fake3"))}),
    Layout("pytorch-gan", "[Epoch {epoch0}/{epochs}] [Batch {batch0}/{batches}]",
           "[Epoch 3/200] [Batch 500/938] [D loss: 0.690274] [G loss: 0.808068]",
           "https://github.com/eriklindernoren/PyTorch-GAN/blob/master/implementations/gan/gan.py",
           codebase="eriklindernoren/PyTorch-GAN"),
    Layout("epoch-step", "Epoch [{epoch0}/{epochs}], Step [{batch}/{batches}]",
           "Epoch [0/200], Step [200/600], d_loss: 0.0536, g_loss: 4.1040, D(x): 0.99, D(G(z)): 0.04",
           "https://github.com/yunjey/pytorch-tutorial/blob/master/tutorials/03-advanced/generative_adversarial_network/main.py",
           codebase="yunjey/pytorch-tutorial", reduction=Reduction.SUM),
    Layout("per-epoch", "Epoch [{epoch}/{epochs}]",
           "Epoch [12/200], d_loss: 0.0126, g_loss: 0.0364, D(x): 0.99, D(G(z)): 0.01",
           "per-epoch summary prints", codebase="per-epoch summaries", reduction=Reduction.SUM, epoch_rows=True),
    Layout("dcgan-tensorflow", "Epoch: [ {epoch0}] [ {batch0}/ {batches}]",
           "Epoch: [ 2] [ 400/1093] time: 1234.5678, d_loss: 1.38566971, g_loss: 0.67304140",
           "https://github.com/carpedm20/DCGAN-tensorflow/blob/master/model.py",
           codebase="carpedm20/DCGAN-tensorflow", reduction=Reduction.SUM),
    Layout("dcgan-tensorflow-epochs", "Epoch: [ {epoch0}/ {epochs}] [ {batch0}/ {batches}]",
           "Epoch: [ 4/25] [  15/1093] time: 341.9423, d_loss: 1.40019155, g_loss: 0.66751683",
           "https://github.com/carpedm20/DCGAN-tensorflow/blob/master/model.py (later versions print the total)",
           codebase="carpedm20/DCGAN-tensorflow", reduction=Reduction.SUM),
    Layout("srgan-tensorlayer", "Epoch: [ {epoch0}/{epochs}] step: [ {batch0}/{batches}]",
           "Epoch: [47/100] step: [79/250] time: 2.377s, g_loss(mse:0.000, vgg:0.000, adv:0.001) d_loss: 1.387",
           "https://github.com/tensorlayer/SRGAN/blob/master/train.py", codebase="tensorlayer/SRGAN",
           reduction=Reduction.SUM, roles={"adv": "g_loss"}),
    Layout("keras-gan", "{step0} [", "1234 [D loss: 0.622592, acc.: 62.50%] [G loss: 1.056955]",
           "https://github.com/eriklindernoren/Keras-GAN/blob/master/dcgan/dcgan.py", codebase="eriklindernoren/Keras-GAN"),
    Layout("keras-dcgan-adversarial", "{step}: [", "48: [D loss: 0.693, acc: 0.500]  [A loss: 0.712, acc: 0.250]",
           "https://github.com/roatienza/Deep-Learning-Experiments (dcgan_mnist.py)",
           codebase="roatienza/Deep-Learning-Experiments", match=r"\[A loss:",
           roles={"a_loss": "g_loss", "acc": "d_acc", "acc#2": ""}),
    Layout("grouped-terms", "{step}:", "283: [D] real 0.050915 fake 0.170305 q -0.843  [G] fake 2.363958 reg 0.178",
           "https://github.com/IDEALLab/bezier-gan (train loop print)", codebase="IDEALLab/bezier-gan",
           match=r"\bD_\w+\s+(?:[-+.\d]|nan|inf).*\bG_\w+\s+(?:[-+.\d]|nan|inf)", roles={"g_fake": "g_loss", "d_q": "", "g_q": "", "g_reg": ""}),
    Layout("basicsr", "", "2022-09-26 16:29:11,822 INFO: [train..][epoch:  0, iter:  25,390, lr:(2.000e-04,)] "
           "[eta: 6 days, 20:45:25, time (data): 0.676 (0.005)] l_g_pix: 0.01 l_g_gan: 0.02 l_d: 0.2 real_score: 2.1",
           "https://github.com/XPixelGroup/BasicSR/blob/master/basicsr/utils/logger.py (MessageLogger)",
           codebase="BasicSR, GFPGAN, Real-ESRGAN", match=r"[\[<]\s*(?:train\S*\]\s*\[)?epoch:\s*\d+,\s*iter:",
           roles=_BASICSR_ROLES),
    Layout("basicsr-losses", "", "l_g_pix: 1.4e-04 l_g_fea: 3.1e-01 l_g_gan: 3.5e-02 l_d_real: 1.7e-03 l_d_fake: 1.3e-03",
           "https://github.com/XPixelGroup/BasicSR (the losses part of a MessageLogger line)",
           codebase="BasicSR, GFPGAN, Real-ESRGAN", match=r"\bl_d(?:_real|_fake)?:\s*\S", roles=_BASICSR_ROLES),
    Layout("mmagic", "", "Iter [  100/80000]  lr_generator: 1.000e-04 eta: 10:11:12, time: 0.5, data_time: 0.01, "
           "memory: 2300, loss_disc_fake: 0.34, loss_disc_real: 0.29, loss_disc_fake_g: 1.10",
           "https://github.com/open-mmlab/mmagic (mmcv TextLoggerHook / mmengine LoggerHook)",
           codebase="open-mmlab/mmagic (mmediting, mmgeneration)", match=r"\bloss_(?:disc|gen|gan)\w*\s*[:=]",
           roles=_MMAGIC_ROLES),
    Layout("cyclegan", "", "(epoch: 1, iters: 100, time: 0.507, data: 0.091) D_A: 0.201 G_A: 0.297 cycle_A: 4.741 "
           "idt_A: 0.712 D_B: 0.250 G_B: 0.422 cycle_B: 2.388 idt_B: 2.395",
           "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix/blob/master/util/visualizer.py (print_current_losses)",
           codebase="junyanz/pytorch-CycleGAN-and-pix2pix", match=r"\(epoch:\s*\d+,\s*iters:\s*\d+.*\bD_A:",
           combine={"d_loss": ("max", ("d_a", "d_b")), "g_loss": ("mean", ("g_a", "g_b"))},
           family=("lsgan", "pytorch-CycleGAN-and-pix2pix trains CycleGAN with --gan_mode lsgan by default")),
    Layout("pix2pix", "", "(epoch: 355, iters: 100, time: 0.078, data: 3.094) G_GAN: 18.230 G_L1: 12.882 D_real: 0.001 "
           "D_fake: 0.000",
           "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix/blob/master/util/visualizer.py (print_current_losses)",
           codebase="junyanz/pytorch-CycleGAN-and-pix2pix", match=r"\(epoch:\s*\d+,\s*iters:\s*\d+.*\bG_GAN:",
           roles={"g_gan": "g_loss"},
           family=("bce", "pytorch-CycleGAN-and-pix2pix trains pix2pix with --gan_mode vanilla (binary cross-entropy) "
                          "by default")),
    Layout("studiogan", "", "[INFO] 2021-02-20 23:02:10 > Step:    2800 Progress: 1.4% Elapsed: 1:46:40 "
           "Discriminator_loss: 6.09806 Generator_loss: 5.81261",
           "https://github.com/POSTECH-CVLab/PyTorch-StudioGAN/blob/master/src/worker.py",
           codebase="POSTECH-CVLab/PyTorch-StudioGAN", match=r"\bStep:\s*\d+\s+Progress:",
           roles={"gen_loss": "g_loss", "dis_loss": "d_loss", "generator_loss": "g_loss",
                  "discriminator_loss": "d_loss"}),
    Layout("biggan", "", "2219/15313 ( 14.48%) (TE/ET1k: 159:38 / 56:17) itr: 2218, G_loss : +0.754, "
           "D_loss_real : +0.000, D_loss_fake : +0.000",
           "https://github.com/ajbrock/BigGAN-PyTorch/blob/master/train.py and utils.progress",
           codebase="ajbrock/BigGAN-PyTorch", match=r"\bD_loss_real\s*:\s*[-+]?(?:\d|\.\d|nan|inf)",
           family=("hinge", "BigGAN-PyTorch trains with the hinge loss (losses.loss_hinge_dis)")),
    Layout("bmsg-gan", "", "Elapsed [1:22:48.539515] batch: 6000  d_loss: 0.000000  g_loss: 16.721962",
           "https://github.com/akanimax/BMSG-GAN/blob/master/sourcecode/MSG_GAN/GAN.py",
           codebase="akanimax/BMSG-GAN", match=r"^\s*Elapsed\s*\[[\d:.\s]*\]\s*batch:\s*\d+\s+d_loss:",
           family=("hinge", "BMSG-GAN's default loss is the relativistic hinge (RelativisticAverageHingeGAN), "
                            "for which a discriminator loss of 0 is normal")),
    Layout("style-based-gan", "", "Size: 512; G: 1.216; D: 1.170; Grad: 0.060; Alpha: 0.84739:   5%|#  | 161250/3000000",
           "https://github.com/rosinality/style-based-gan-pytorch/blob/master/train.py (tqdm description)",
           codebase="rosinality/style-based-gan-pytorch", match=r"^\s*Size:\s*\d+;\s*G:",
           roles={"g": "g_loss", "d": "d_loss", "grad": ""}),
    Layout("stylegan-rosinality", "", "d: 0.3513; g: 2.1047; r1: 0.0106; path: 0.0167; mean path: 0.8157; augment: 0.0000",
           "https://github.com/rosinality/stylegan2-pytorch/blob/master/train.py (tqdm description)",
           codebase="rosinality/stylegan2-pytorch",
           match=r"(?-i:(?:^|\s)d:\s*\S+;\s*g:)", roles={"d": "d_loss", "g": "g_loss"},
           family=("bce", "rosinality's StyleGAN trains with the non-saturating softplus loss "
                          "(binary cross-entropy on logits)")),
    Layout("pix2pix-tensorflow", "", "progress  epoch 50  step 602  image/sec 10.5  remaining 120m; discrim_loss 0.68; "
           "gen_loss_GAN 0.76; gen_loss_L1 0.09",
           "https://github.com/affinelayer/pix2pix-tensorflow/blob/master/pix2pix.py", codebase="affinelayer/pix2pix-tensorflow",
           match=r"^\s*progress\s+epoch\s+\d+\s+step\s+\d+", record="block",
           roles={"discrim_loss": "d_loss", "gen_loss_gan": "g_loss"}),
    Layout("pix2pixhd-vertical", "", "Epoch: 1; Iters: 3200; Time: 0.021; G_GAN: 1.442; G_GAN_Feat: 9.491; D_real: 1.121",
           "https://github.com/NVIDIA/pix2pixHD (losses copied one per line)", codebase="NVIDIA/pix2pixHD",
           match=r"^\s*Epoch:\s*\d+;\s*Iters?:", record="block", roles={"g_gan": "g_loss"},
           family=("lsgan", "pix2pixHD uses the least-squares GAN loss by default (no --no_lsgan)")),
    Layout("header-table", "", "D_loss | acc | G_loss | time\n0.004 | 100 | 6.25 | 2 days, 12:04:16",
           "tables printed with a header row (CT-GAN and similar)", codebase="ymirsky/CT-GAN",
           match=r"^\s*\|?\s*table-row:", record="table"),
    Layout("paddle-dcgan", "", "Epoch ID=0 Batch ID=10 D-Loss=[0.8772299, 0.48127288] DG-Loss=0.54744720459",
           "https://github.com/PaddlePaddle/models (fluid/PaddleCV/gan/c_gan/dc_gan.py)", codebase="PaddlePaddle/models",
           match=r"\bD-Loss\s*=\s*\S.*\bDG-Loss\s*=", roles={"d_loss": "d_loss_fake", "d_loss_2": "d_loss_real", "dg_loss": "g_loss"}),
    Layout("tunit", "", "Epoch: [10/200] [500/1000] MODE[ONLYCLS] Avg Loss: D[0.00] G[0.00] C[2.61]",
           "https://github.com/clovaai/tunit/blob/master/train/train_unsupervised.py", codebase="clovaai/tunit",
           match=r"Avg Loss:\s*D\[", roles={"c": ""},
           family=("hinge", "TUNIT's adversarial loss is the hinge loss (compute_dis_loss with relu)")),
    Layout("improved-wgan", "", "iter 99\tdisc cost\t-0.811114370823",
           "https://github.com/igul222/improved_wgan_training/blob/master/tflib/plot.py (plot.flush prints)",
           codebase="igul222/improved_wgan_training", match=r"^\s*iter\s+\d+\s+(?:train\s+)?disc cost\b",
           roles={"disc_cost": "d_loss", "train_disc_cost": "d_loss", "gen_cost": "g_loss", "train_gen_cost": "g_loss"},
           family=("wgan", "improved_wgan_training trains a WGAN-GP critic")),
    Layout("pngan-tqdm", "", "Epoch 28:g_trn_l=4260.0166,d_trn_l=-8.6347: 100%|#| 2500/2500 [18:04<00:00, 2.3",
           "https://github.com/caiyuanhao1998/PNGAN (tqdm description of the training loop)", codebase="caiyuanhao1998/PNGAN",
           match=r"\bd_trn_l=", roles={"g_trn_l": "g_loss", "d_trn_l": "d_loss"}),
    Layout("lightning-tqdm", "", "Epoch 3:  45%|####5     | 450/1000 [00:30<00:37, 14.8it/s, loss=0.9, v_num=1, "
           "g_loss=0.85, d_loss=0.61]",
           "https://github.com/Lightning-AI/pytorch-lightning (TQDMProgressBar) and the Lightning GAN example",
           codebase="Lightning-AI/pytorch-lightning", match=r"\bv_num=", epoch_rows=True,
           roles={"g_loss_step": "g_loss", "d_loss_step": "d_loss", "v_num": "", "loss": ""}),
    Layout("keras-fit", "{batch}/{batches}",
           "Epoch 3/20 ... 469/469 ━━━━━━━━━━━━━━━━━━━━ 5s 11ms/step - d_loss: 0.6100 - g_loss: 0.8700",
           "Keras Model.fit progress of a custom train_step (keras.io DCGAN example)", codebase="Keras fit",
           epoch_rows=True),
    Layout("labelled", "", "Epoch 3, Step12, d_loss: 0.61, g_loss: 0.87",
           "labelled epoch/step/iter numbers anywhere in the line", codebase="generic"),
    Layout("unindexed", "", "INFO:root:Generator loss: 0.97, Discriminator loss: 0.0004",
           "metrics without a step (Python logging and the like)", codebase="generic"),
)
BY_NAME = {layout.name: layout for layout in LAYOUTS}

#: Names of printed numbers that are not metrics: clocks, throughput, progress, learning rates.
#: ``inspect`` lists them as ignored instead of "not mapped".
IGNORED_NAMES = frozenset({
    "time", "data", "data_time", "eta", "lr", "lr_generator", "lr_discriminator", "memory", "elapsed", "progress",
    "image/sec", "image_sec", "images/sec", "img/s", "it/s", "s/it", "samples/sec", "remaining", "sec/tick",
    "sec/kimg", "maintenance", "cpumem", "gpumem", "reserved", "kimg", "tick", "temperature", "ada_p", "v_num",
    "alpha", "size", "grad", "augment", "iters_per_sec", "time_data", "time_(data)", "epoch_time", "^cr",
})
