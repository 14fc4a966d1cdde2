"""The citation registry: every paper the project cites, and every number it quotes from one.

A number a reader sees is either computed from the live model (a ``{{placeholder}}`` of
``app.teaching.numbers``) or registered here as a ``Claim``: its text as written, the paper
(``PAPERS``, each with an arXiv id or a URL), where in the paper (section, table, figure), what it
measures, and the words that must stand beside it (``cues``) so that a number cannot drift away
from its source: "6.43" passes only in a sentence that also says "Table 6" and "best of 5".

``unregistered(unit)`` is the check: it takes one unit of text (a paragraph, a list item with its
step's title, a table row with its header and the paragraph before the table, a tooltip), removes
what is not a claim — placeholders, code spans, maths, struck-through text (a claim the pages say
is wrong), link targets, the notation of ``NOTATION`` (section and table numbers, arXiv ids,
kernel sizes such as 3×3, model names such as ResNet-50, version names, dtype names) — then every
registered claim whose cues the unit carries, and returns the digits left over. A test runs it over
every explainer text, every tooltip and caption in ``app/`` and every help text of the spec fields.

Three more kinds of registered number, each with where it comes from:

* ``Definition``: a number that is part of a definition in the glossary ("FLOPs = 2 × MACs");
* ``AppFact``: a number the app states about itself ("about 50 ms"), with the file that backs it;
* years of the papers, registered from ``PAPERS`` (a year counts beside its paper's citation).

No Streamlit here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- the papers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paper:
    """One cited work. ``cite`` is how the pages name it in running text."""

    key: str
    authors: str
    title: str
    year: int
    cite: str
    arxiv: str = ""  # "1512.03385"
    url: str = ""  # for what is not on arXiv

    @property
    def link(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else self.url

    @property
    def reference(self) -> str:
        """The full reference, Markdown: authors, *title*, arXiv id or URL, year."""
        where = f"arXiv:{self.arxiv}" if self.arxiv else self.url
        return f"{self.authors}, *{self.title}*, {where} ({self.year})"


PAPERS: dict[str, Paper] = {
    p.key: p
    for p in (
        Paper(
            "resnet",
            "Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun",
            "Deep Residual Learning for Image Recognition",
            2015,
            "He et al. 2015",
            arxiv="1512.03385",
        ),
        Paper(
            "identity",
            "Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun",
            "Identity Mappings in Deep Residual Networks",
            2016,
            "He et al. 2016",
            arxiv="1603.05027",
        ),
        Paper(
            "goyal",
            "Priya Goyal, Piotr Dollár, Ross Girshick, Pieter Noordhuis, Lukasz Wesolowski, Aapo Kyrola, "
            "Andrew Tulloch, Yangqing Jia, Kaiming He",
            "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
            2017,
            "Goyal et al. 2017",
            arxiv="1706.02677",
        ),
        Paper(
            "tricks",
            "Tong He, Zhi Zhang, Hang Zhang, Zhongyue Zhang, Junyuan Xie, Mu Li",
            "Bag of Tricks for Image Classification with Convolutional Neural Networks",
            2019,
            "Tong He et al. 2019",
            arxiv="1812.01187",
        ),
        Paper(
            "vgg",
            "Karen Simonyan, Andrew Zisserman",
            "Very Deep Convolutional Networks for Large-Scale Image Recognition",
            2015,
            "Simonyan & Zisserman",
            arxiv="1409.1556",
        ),
        Paper(
            "prelu",
            "Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun",
            "Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet Classification",
            2015,
            "Delving Deep into Rectifiers",
            arxiv="1502.01852",
        ),
        Paper(
            "bn",
            "Sergey Ioffe, Christian Szegedy",
            "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
            2015,
            "Ioffe & Szegedy 2015",
            arxiv="1502.03167",
        ),
        Paper(
            "relu",
            "Vinod Nair, Geoffrey E. Hinton",
            "Rectified Linear Units Improve Restricted Boltzmann Machines",
            2010,
            "Nair & Hinton 2010",
            url="https://www.cs.toronto.edu/~hinton/absps/reluICML.pdf",
        ),
        Paper(
            "erf",
            "Wenjie Luo, Yujia Li, Raquel Urtasun, Richard Zemel",
            "Understanding the Effective Receptive Field in Deep Convolutional Neural Networks",
            2016,
            "Luo et al. 2016",
            arxiv="1701.04128",
        ),
        Paper(
            "shattered",
            "David Balduzzi, Marcus Frean, Lennox Leary, JP Lewis, Kurt Wan-Duo Ma, Brian McWilliams",
            "The Shattered Gradients Problem: If resnets are the answer, then what is the question?",
            2017,
            "Balduzzi et al. 2017",
            arxiv="1702.08591",
        ),
        Paper(
            "fbresnet",
            "Sam Gross, Michael Wilber",
            "Training and investigating Residual Nets (fb.resnet.torch)",
            2016,
            "fb.resnet.torch",
            url="https://github.com/facebook/fb.resnet.torch",
        ),
        # -- the family since 2015 (issue 17): what timm's ResNet variants change, each from its paper --
        Paper(
            "se",
            "Jie Hu, Li Shen, Samuel Albanie, Gang Sun, Enhua Wu",
            "Squeeze-and-Excitation Networks",
            2018,
            "Hu et al. 2018",
            arxiv="1709.01507",
        ),
        Paper(
            "eca",
            "Qilong Wang, Banggu Wu, Pengfei Zhu, Peihua Li, Wangmeng Zuo, Qinghua Hu",
            "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
            2020,
            "Wang et al. 2020",
            arxiv="1910.03151",
        ),
        Paper(
            "antialias",
            "Richard Zhang",
            "Making Convolutional Networks Shift-Invariant Again",
            2019,
            "Zhang 2019",
            arxiv="1904.11486",
        ),
        Paper(
            "stochdepth",
            "Gao Huang, Yu Sun, Zhuang Liu, Daniel Sedra, Kilian Q. Weinberger",
            "Deep Networks with Stochastic Depth",
            2016,
            "Huang et al. 2016",
            arxiv="1603.09382",
        ),
        Paper(
            "groupnorm",
            "Yuxin Wu, Kaiming He",
            "Group Normalization",
            2018,
            "Wu & He 2018",
            arxiv="1803.08494",
        ),
        Paper(
            "ws",
            "Siyuan Qiao, Huiyu Wang, Chenxi Liu, Wei Shen, Alan Yuille",
            "Micro-Batch Training with Batch-Channel Normalization and Weight Standardization",
            2019,
            "Qiao et al. 2019",
            arxiv="1903.10520",
        ),
        Paper(
            "deeplab",
            "Liang-Chieh Chen, George Papandreou, Iasonas Kokkinos, Kevin Murphy, Alan L. Yuille",
            "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets, Atrous Convolution, "
            "and Fully Connected CRFs",
            2016,
            "Chen et al. 2016",
            arxiv="1606.00915",
        ),
        Paper(
            "bit",
            "Alexander Kolesnikov, Lucas Beyer, Xiaohua Zhai, Joan Puigcerver, Jessica Yung, Sylvain Gelly, "
            "Neil Houlsby",
            "Big Transfer (BiT): General Visual Representation Learning",
            2020,
            "Kolesnikov et al. 2020",
            arxiv="1912.11370",
        ),
        Paper(
            "timm",
            "Ross Wightman",
            "PyTorch Image Models (timm)",
            2019,
            "timm",
            url="https://github.com/huggingface/pytorch-image-models",
        ),
        Paper(
            "torchvision",
            "the torchvision maintainers",
            "torchvision/models/resnet.py",
            2017,
            "torchvision",
            url="https://github.com/pytorch/vision/blob/main/torchvision/models/resnet.py",
        ),
    )
}


# -- the numbers they print --------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A number (or a phrase holding one) as a paper prints it.

    ``where`` is the section, table or figure, and must appear beside the number (unless it is
    empty, for a number whose cues say enough); ``cues`` are further words that must appear, such as
    the statistic of a repeated run ("best of 5").
    """

    key: str
    text: str
    paper: str
    where: str
    what: str
    cues: tuple[str, ...] = ()

    @property
    def value(self) -> float:
        """The number in ``text`` (its first one), for charts and for comparing with the live model."""
        m = re.search(r"\d+(?:\.\d+)?", self.text)
        if m is None:
            raise ValueError(f"claim {self.key} holds no number")
        number = float(m.group())
        return number * {"M": 1e6, "k": 1e3}.get(self.text[m.end() : m.end() + 1], 1)

    @property
    def source(self) -> str:
        """'He et al. 2015, Table 6' — how the page says where the number comes from."""
        paper = PAPERS[self.paper]
        return f"{paper.cite}, {self.where}" if self.where else paper.cite

    def required(self) -> tuple[str, ...]:
        return ((self.where,) if self.where else ()) + self.cues


def _claims(paper: str, where: str, what: str, rows: list[tuple[str, str]], cues: tuple[str, ...] = ()) -> list[Claim]:
    return [Claim(f"{paper}.{key}", text, paper, where, f"{what}: {key}", cues) for key, text in rows]


MEDIAN5 = ("median of 5",)  # Identity Mappings §3.1: "we report the median accuracy of 5 runs" on CIFAR

CLAIMS: tuple[Claim, ...] = (
    # He et al. 2015, Table 1 ("FLOPs", which §3.3 says are multiply-adds).
    *_claims(
        "resnet",
        "Table 1",
        "FLOPs (multiply-adds, billions)",
        [
            ("table1.resnet18", "1.8"),
            ("table1.resnet34", "3.6"),
            ("table1.resnet50", "3.8"),
            ("table1.resnet101", "7.6"),
            ("table1.resnet152", "11.3"),
        ],
    ),
    # Table 2: top-1 error (%, 10-crop testing) on ImageNet validation, plain against residual.
    *_claims(
        "resnet",
        "Table 2",
        "top-1 error %, ImageNet val, 10-crop",
        [
            ("table2.plain18", "27.94"),
            ("table2.plain34", "28.54"),
            ("table2.resnet18", "27.88"),
            ("table2.resnet34", "25.03"),
        ],
    ),
    Claim("resnet.table2.crop", "10-crop", "resnet", "Table 2", "testing protocol of Tables 2 and 3 (§3.4)"),
    # Table 3: error rates (%, 10-crop testing) on ImageNet validation.
    *_claims(
        "resnet",
        "Table 3",
        "top-1 error %, ImageNet val, 10-crop",
        [
            ("table3.plain34", "28.54"),
            ("table3.resnet34_A", "25.03"),
            ("table3.resnet34_B", "24.52"),
            ("table3.resnet34_C", "24.19"),
            ("table3.resnet50", "22.85"),
            ("table3.resnet101", "21.75"),
            ("table3.resnet152", "21.43"),
        ],
    ),
    Claim("resnet.table3.crop", "10-crop", "resnet", "Table 3", "testing protocol of Tables 2 and 3 (§3.4)"),
    # §3.3: "Our 34-layer baseline has 3.6 billion FLOPs (multiply-adds)".
    Claim("resnet.plain34.flops", "3.6", "resnet", "§3.3", "FLOPs (multiply-adds) of the 34-layer baseline, billions"),
    # §4.1: "the 152-layer ResNet (11.3 billion FLOPs) still has lower complexity than VGG-16/19 nets
    # (15.3/19.6 billion FLOPs)"; Fig. 3's caption gives VGG-19's 19.6 too.
    *_claims("resnet", "§4.1", "VGG FLOPs (billions)", [("vgg16.gflops", "15.3"), ("vgg19.gflops", "19.6")]),
    # Table 6: CIFAR-10 test error (%), and the parameters as printed ("# params").
    *_claims(
        "resnet",
        "Table 6",
        "parameters as printed",
        [
            ("table6.resnet20.params", "0.27M"),
            ("table6.resnet32.params", "0.46M"),
            ("table6.resnet44.params", "0.66M"),
            ("table6.resnet56.params", "0.85M"),
            ("table6.resnet110.params", "1.7M"),
            ("table6.resnet1202.params", "19.4M"),
        ],
    ),
    *_claims(
        "resnet",
        "Table 6",
        "CIFAR-10 test error %",
        [
            ("table6.resnet20", "8.75"),
            ("table6.resnet32", "7.51"),
            ("table6.resnet44", "7.17"),
            ("table6.resnet56", "6.97"),
            ("table6.resnet1202", "7.93"),
        ],
    ),
    # "For ResNet-110, we run it 5 times and show 'best (mean±std)'" (Table 6's caption).
    Claim("resnet.table6.resnet110", "6.43", "resnet", "Table 6", "CIFAR-10 test error %, best of 5", ("best of 5",)),
    Claim(
        "resnet.table6.resnet110_mean", "6.61", "resnet", "Table 6", "CIFAR-10 test error %, mean of 5", ("mean of 5",)
    ),
    Claim("resnet.table6.resnet110_std", "0.16", "resnet", "Table 6", "std of the 5 runs", ("±",)),
    Claim("resnet.table6.runs", "5 runs", "resnet", "Table 6", "ResNet-110 was trained 5 times"),
    Claim("resnet.table6.best", "best of 5", "resnet", "Table 6", "statistic of ResNet-110's 5 runs"),
    Claim("resnet.table6.mean", "mean of 5", "resnet", "Table 6", "statistic of ResNet-110's 5 runs"),
    Claim("resnet.plain_stride", "stride-2", "resnet", "§3.3", "the plain baseline's downsampling convolutions"),
    Claim("resnet.shortcut_stride", "stride of 2", "resnet", "§3.3", "stride of a shortcut across two map sizes"),
    # §4.2: the CIFAR-10 nets.
    Claim("resnet.cifar.depth", "6n + 2", "resnet", "§4.2", "weighted layers of the CIFAR-10 nets"),
    Claim("resnet.cifar.input", "32×32", "resnet", "§4.2", "CIFAR-10 input size"),
    Claim("resnet.cifar.input_px", "32", "resnet", "", "CIFAR-10 input size (§4.2)", ("CIFAR",)),
    Claim("resnet.cifar.train_error_1202", "0.1%", "resnet", "§4.2", "training error of ResNet-1202 (below)"),
    # §4.2: "a mini-batch size of 128 ... terminate training at 64k iterations".
    Claim("resnet.cifar.batch", "batch 128", "resnet", "§4.2", "mini-batch of the CIFAR-10 training"),
    Claim("resnet.cifar.iterations", "64k", "resnet", "§4.2", "iterations of the CIFAR-10 training"),
    # Fig. 6 (left and middle): plain-20/32/44/56 and ResNet-20/32/44/56 (and ResNet-110) on CIFAR-10.
    Claim("resnet.fig6.depths", "20 to 56", "resnet", "Fig. 6", "depths of the plain and residual nets of Fig. 6"),
    # §3.4 and Table 1: the ImageNet input and the stage of 56×56 maps.
    Claim("resnet.imagenet.input", "224", "resnet", "", "ImageNet crop size (§3.4)", ("ImageNet",)),
    Claim("resnet.table1.conv2_input", "224", "resnet", "", "input size of Table 1", ("conv2_x",)),
    Claim("resnet.table1.conv2_size", "56", "resnet", "", "output size of conv2_x (Table 1)", ("conv2_x",)),
    # Fig. 5: "a 'bottleneck' building block" on 256-d, reducing to a quarter and restoring (Table 1).
    Claim("resnet.fig5.basic_width", "64-d", "resnet", "Fig. 5", "width of Fig. 5's basic block (left)"),
    Claim("resnet.fig5.width", "256", "resnet", "", "width of Fig. 5's bottleneck (right)", ("bottleneck",)),
    Claim("resnet.fig5.expansion", "4", "resnet", "", "the bottleneck's expansion (Table 1)", ("bottleneck",)),
    # He et al. 2016 (Identity Mappings): CIFAR-10 test error %, median of 5 runs (§3.1).
    Claim(
        "identity.table1.resnet110",
        "6.61",
        "identity",
        "Table 1",
        "ResNet-110, original unit, median of 5",
        MEDIAN5,
    ),
    Claim(
        "identity.table1.conv_shortcut",
        "12.22",
        "identity",
        "Table 1",
        "ResNet-110 with 1×1 conv shortcuts, median of 5",
        MEDIAN5,
    ),
    *_claims(
        "identity",
        "Table 2",
        "CIFAR-10 test error %, median of 5",
        [
            ("table2.resnet110", "6.61"),
            ("table2.resnet110_preact", "6.37"),
            ("table2.resnet164", "5.93"),
            ("table2.resnet164_preact", "5.46"),
        ],
        MEDIAN5,
    ),
    Claim(
        "identity.table4.resnet1001",
        "4.62",
        "identity",
        "Table 4",
        "ResNet-1001, pre-activation, mini-batch 64, median of 5 (also the abstract)",
        MEDIAN5,
    ),
    Claim("identity.table4.batch", "mini-batch 64", "identity", "Table 4", "mini-batch of the 4.62% run"),
    Claim("identity.median", "median of 5", "identity", "", "statistic of its CIFAR results (§3.1)", ("CIFAR",)),
    # Goyal et al. 2017, Table 2b: top-1 error %, ResNet-50, mean ± std of 5 runs.
    *_claims(
        "goyal",
        "Table 2b",
        "top-1 error %, ResNet-50, mean of 5",
        [
            ("table2b.small_gamma1", "23.84"),
            ("table2b.small_gamma0", "23.60"),
            ("table2b.large_gamma1", "24.11"),
            ("table2b.large_gamma0", "23.74"),
        ],
    ),
    *_claims(
        "goyal",
        "Table 2b",
        "std of the 5 runs",
        [
            ("table2b.small_gamma1_std", "0.18"),
            ("table2b.small_gamma0_std", "0.12"),
            ("table2b.large_gamma1_std", "0.07"),
            ("table2b.large_gamma0_std", "0.09"),
        ],
        ("±",),
    ),
    Claim("goyal.stride", "stride-2", "goyal", "§5.1", "where their ResNet-50 subsamples (on the 3×3)"),
    Claim("goyal.table2b.mean", "mean of 5", "goyal", "Table 2b", "statistic of Table 2b (5 runs each)"),
    Claim("goyal.table2b.runs", "5 runs", "goyal", "Table 2b", "each setting trained 5 times"),
    # §5.1: "the learnable scaling coefficient γ is initialized to be 1, except for each residual
    # block's last BN where γ is initialized to be 0".
    Claim("goyal.gamma_one", "γ = 1", "goyal", "", "the usual BN initialisation (§5.1)", ("γ",)),
    Claim("goyal.gamma_zero", "γ = 0", "goyal", "", "the last BN of each residual block (§5.1)", ("γ",)),
    Claim("goyal.table2b.small_batch", "256", "goyal", "Table 2b", "the small minibatch"),
    Claim("goyal.table2b.large_batch", "8k", "goyal", "Table 2b", "the large minibatch"),
    # Simonyan & Zisserman, §2.2: widths double "after each max-pooling layer, until it reaches 512".
    Claim("vgg.width_cap", "512", "vgg", "§2.2", "VGG's widest conv layers"),
    # The family since 2015: the few numbers its papers fix and the spec's help quotes.
    # Hu et al. (SE), §6.1 and Table 10: "r = 16" balances accuracy and complexity (the spec's SE_REDUCTION).
    Claim("se.reduction", "r = 16", "se", "§6.1", "SE's reduction ratio"),
    # Wu & He, §3.1: "G = 32 by default" (the spec's GN_GROUPS).
    Claim("groupnorm.groups", "32 groups", "groupnorm", "", "GroupNorm's default groups (§3.1)", ("GroupNorm",)),
    # timm (resnet.py, create_attn/SEModule): the squeeze's width rounded with make_divisible(…, 8);
    # resnetv2.py: BiT's nets are built with partial(StdConv2d, eps=1e-8).
    Claim("timm.se_divisor", "multiple of 8", "timm", "", "SE squeeze width rounding in timm", ("timm",)),
    Claim("timm.ws_eps", "1e-8", "timm", "", "ε of the standardised convs of timm's BiT nets", ("ε", "timm")),
)


CLAIM: dict[str, Claim] = {c.key: c for c in CLAIMS}


@dataclass(frozen=True)
class Definition:
    """A number that belongs to a definition the glossary gives (``glossary`` is the term's anchor)."""

    text: str
    cues: tuple[str, ...]
    glossary: str


DEFINITIONS: tuple[Definition, ...] = (
    Definition("2 ×", ("MAC",), "macs"),  # one multiply-add is two floating-point operations
)


@dataclass(frozen=True)
class AppFact:
    """A number the app says about itself, and the project file that backs it (or computes it)."""

    text: str
    cues: tuple[str, ...]
    backed_by: str


APP_FACTS: tuple[AppFact, ...] = (
    AppFact("45–500 MB", ("Not downloaded",), "resnet_core/weights.py"),
    AppFact("16 channels", ("largest mean",), "app/views/live.py"),
    AppFact("0 …", ("map",), "app/views/receptive_field.py"),
    AppFact("0 (the map is one unit", (), "app/views/receptive_field.py"),
    AppFact("2r + 1", ("Chebyshev",), "resnet_core/erf.py"),  # EffectiveField.side_95
    AppFact("sum to 1", ("normalised",), "resnet_core/erf.py"),  # the heatmap divided by its total
)


# -- what is notation, not a claim -------------------------------------------------------------------

# "Tables 1–3, 6", "§3.1–3.2", "Figs. 6 and 7" — but not the "3" of a following "3×3"
_RANGE = r"(?:\s*(?:–|-|,|and|&|to)\s*\(?\d+(?:\.\d+)*[a-z]?(?:\([a-z]\))?\)?(?![\d×]))*"
NOTATION = re.compile(
    "|".join(
        [
            r"arXiv:\s?\d{4}\.\d{4,5}",
            # locators: §4.1, Table 2b, Tables 1–3, Fig. 4(e), Figs. 6–7, Eqn. (2), Eqns. 4–5, footnote 3
            r"(?:§|Sec\.\s?|Section\s)\d+(?:\.\d+)*" + _RANGE,
            r"(?:Tables?|Figs?\.|Figures?|Eqns?\.|Eq\.|footnote)\s*\(?\d+[a-z]?(?:\([a-z]\))?\)?" + _RANGE,
            # kernel and pooling sizes, with an optional stride: 1×1, 3×3, 7×7/2, 2×2
            r"\b[1-7]×[1-7](?:/\d)?\b",
            # data sets and model names: CIFAR-10, ResNet-50, ResNet-50/101/152, plain-34, VGG-16/19
            r"\bCIFAR-10{1,2}\b|\bshapes10\b",
            r"\b(?:ResNet|ResNeXt|plain|VGG|Plain)-\d+(?:/\d+)*",
            r"\bresnet\d+|\bresnext\d+\w*|\bwide_resnet\d+_\d|\bplain\d+|\bResNetV2\b|\bresnetv2_\d+",
            # version names: v1, v1.5, ResNet V1.5
            r"\b[vV]\d+(?:\.\d+)?\b",
            # layer, stage and block names: conv2_x, conv3_1, layer1, stage 2, stages 2–4
            r"\bconv\d_(?:x|\d)\b|\blayer\d+(?:\.\d+)*\b|\bstages?\s\d+" + _RANGE,
            # names with digits: dtypes, hashes, licences, percentiles, top-k, the standard normal
            r"\b(?:b?float|u?int)\d+\b|\bsha256\b|\b(?:MD5|md5)\b|\bCC0\b|\bp\d{2}\b|\b[Tt]op-\d\b|\bN\(0, ?1\)",
            # formulas over a symbol, not claims: width/2, 3·width/8, 2·width, 3w/8, w/2, 2w, (n−1)
            r"\b\d*\s*·?\s*(?:width|w)\s*/\s*\d+\b|\b\d+\s*·\s*(?:width|w)\b|\b\d+w\b|\bn\s*[−-]\s*1\b",
            # a layer's settings written out, like 3×3/2: "stride 1", "padding 1", "dilation 2"
            r"\b(?:stride|padding|dilation)\s\d\b",
            # syntax examples: "e.g. 3,4,6,3", "such as 224x160"
            r"(?:e\.g\.|such as)\s+\d+(?:[,x×]\d+)+",
        ]
    )
)

PLACEHOLDER = re.compile(r"\{\{\s*[^{}]*?\s*\}\}")
_STRUCK = re.compile(r"~~.*?~~", re.S)
_CODE = re.compile(r"`[^`]*`")
_MATHS = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def _stripped(unit: str) -> str:
    """The unit without what is never a claim: placeholders, code, maths, struck text, link targets,
    and the titles of the registered papers ("… Training ImageNet in 1 Hour" names a paper)."""
    for pattern in (PLACEHOLDER, _STRUCK, _CODE, _MATHS):
        unit = pattern.sub(" ", unit)
    unit = re.sub(r"\s+", " ", _LINK_TARGET.sub("]", unit))
    for paper in PAPERS.values():
        unit = unit.replace(paper.title, " ")
    return unit


def _phrase(text: str) -> re.Pattern[str]:
    """A registered text as a whole token: '6.43' never matches inside '16.43' or '6.435'."""
    return re.compile(rf"(?<![\w.]){re.escape(text)}(?!\d|\.\d)")


def cite_name(paper: Paper) -> str:
    """The citation without its year: 'He et al.', 'Simonyan & Zisserman', 'torchvision'."""
    return re.sub(r"\s+(?:19|20)\d\d$", "", paper.cite)


def _year_claims() -> list[Claim]:
    """A paper's year counts beside its citation ('He et al. 2015') or its title (a reference list)."""
    return [
        Claim(f"{p.key}.year.{i}", str(p.year), p.key, "", "year of publication", (cue,))
        for p in PAPERS.values()
        for i, cue in enumerate((cite_name(p), " ".join(p.title.split()[:3])))
    ]


#: Everything registered, the longest texts first (so '6n + 2' goes before any '2' could).
REGISTERED: tuple[Claim | Definition | AppFact, ...] = tuple(
    sorted((*CLAIMS, *_year_claims(), *DEFINITIONS, *APP_FACTS), key=lambda e: -len(e.text))
)


def _cues(entry: Claim | Definition | AppFact) -> tuple[str, ...]:
    return entry.required() if isinstance(entry, Claim) else entry.cues


def check(unit: str) -> tuple[list[Claim | Definition | AppFact], list[str]]:
    """(the registered numbers found in ``unit``, the numbers left that nothing registers)."""
    text = NOTATION.sub(" ", _stripped(unit))
    found: list[Claim | Definition | AppFact] = []
    for entry in REGISTERED:
        if all(cue in unit for cue in _cues(entry)):
            text, n = _phrase(entry.text).subn(" ", text)
            found += [entry] * n
    return found, _DIGITS.findall(text)


def unregistered(unit: str) -> list[str]:
    """Numbers in ``unit`` that are neither computed, notation, nor registered with their cues."""
    return check(unit)[1]


# -- how a text is cut into units ------------------------------------------------------------------


def markdown_units(text: str, context: str = "") -> list[str]:
    """A Markdown text cut into the units a number must be cited within, each with ``context`` prepended.

    A paragraph is a unit; a list item (with its continuation lines) is a unit; a table row is a
    unit together with the table's header and the paragraph just before the table.
    """
    units: list[str] = []
    before = ""
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and all(line.lstrip().startswith("|") for line in lines):
            header = lines[0]
            units += [f"{context}\n{before}\n{header}\n{row}" for row in lines[2:]] or [f"{context}\n{header}"]
            continue
        if lines and lines[0].lstrip().startswith(("- ", "* ")):
            items: list[str] = []
            for line in lines:
                if line.lstrip().startswith(("- ", "* ")) or not items:
                    items.append(line)
                else:
                    items[-1] += "\n" + line
            units += [f"{context}\n{item}" for item in items]
            continue
        units.append(f"{context}\n{block}")
        before = block
    return units


CITATION = re.compile(r"\b[A-Z][a-zé]+ (?:&|and) [A-Z][a-z]+\b|\b(?:[A-Z][a-z]+ )?[A-Z][a-z]+ et al\.")


def citations_in(text: str) -> list[str]:
    """Author citations ("He et al.", "Tong He et al.", "Simonyan & Zisserman") written in ``text``."""
    text = re.sub(r"\s+", " ", _STRUCK.sub(" ", text))
    for paper in PAPERS.values():  # a title is no citation ("… Normalization and Weight Standardization")
        text = text.replace(paper.title, " ")
    return CITATION.findall(text)


def arxiv_ids_in(text: str) -> list[str]:
    return re.findall(r"arXiv:\s?(\d{4}\.\d{4,5})", text)


def paper_for_citation(citation: str) -> Paper | None:
    """The registered paper a written citation names, or None: 'Tong He et al.' is not 'He et al.'."""
    for p in PAPERS.values():
        if citation == cite_name(p):
            return p
    return None
