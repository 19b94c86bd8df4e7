"""Plausible identities for simulated cars and borrowers: VINs with valid check digits, plates, names.

All synthetic. VINs follow ISO 3779 as used in China (GB 16735): a real manufacturer prefix (WMI)
and a correct check digit in position 9, so VIN validators downstream accept them.
"""

import numpy as np

# (make and model, WMI of its Chinese joint venture or maker, new-energy vehicle?)
MODELS: tuple[tuple[str, str, bool], ...] = (
    ("Volkswagen Lavida", "LSV", False),
    ("Toyota Corolla", "LFM", False),
    ("Honda Accord", "LHG", False),
    ("Nissan Sylphy", "LGB", False),
    ("Buick Excelle GT", "LSG", False),
    ("BYD Qin PLUS", "LGX", True),
    ("Tesla Model 3", "LRW", True),
    ("Geely Emgrand", "L6T", False),
    ("Changan CS75", "LS5", False),
    ("BMW 3 Series", "LBV", False),
    ("Haval H6", "LGW", False),
)

_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_YEAR_CODES = "KLMNPRS"  # model years 2019..2025
_TRANSLIT = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN: tuple[str, ...] = (*"伟芳娜敏静强磊洋艳勇军杰涛明超", "秀英", "建华", "志强")
_PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 check character (position 9) for a 17-character VIN."""
    total = sum(_TRANSLIT[ch] * w for ch, w in zip(vin, _WEIGHTS, strict=True))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def make_vin(wmi: str, serial: int, rng: np.random.Generator) -> str:
    """A 17-character VIN with a valid check digit; `serial` (< 10**6) makes it unique."""
    vds = "".join(_VIN_CHARS[i] for i in rng.integers(0, len(_VIN_CHARS), 5))
    year = _YEAR_CODES[int(rng.integers(0, len(_YEAR_CODES)))]
    plant = _VIN_CHARS[int(rng.integers(0, len(_VIN_CHARS)))]
    draft = f"{wmi}{vds}0{year}{plant}{serial % 1_000_000:06d}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def make_plate(prefixes: tuple[str, ...], new_energy: bool, rng: np.random.Generator) -> str:
    """A licence plate of the city (green new-energy plates have six characters, starting D)."""
    prefix = prefixes[int(rng.integers(0, len(prefixes)))]
    if new_energy:
        return prefix + "D" + "".join(str(d) for d in rng.integers(0, 10, 5))
    chars = "".join(_PLATE_CHARS[i] for i in rng.integers(0, len(_PLATE_CHARS), 4))
    return prefix + str(int(rng.integers(0, 10))) + chars


def make_name(rng: np.random.Generator) -> str:
    """A synthetic borrower name."""
    return _SURNAMES[int(rng.integers(0, len(_SURNAMES)))] + _GIVEN[int(rng.integers(0, len(_GIVEN)))]
