"""The papers' worked examples in Fp, fully annotated: each type-checks, and its erasure gives
the value of the untyped golden test of the same name (``tests/lambda_p/test_examples.py``).

State has one operation per label in Fp (Σ maps a label to one operation), so get and set are
one operation ``state``: ``Left n`` sets n, ``Right ()`` gets. The string accumulator is the
operation ``tell``.
"""

from __future__ import annotations

STATE_HANDLER = (
    "handle[\\x. x, Int] {return -> /\\a. \\(s:Int) (x:a). x, "
    "state -> /\\b. \\(s:Int) (req:Either Int ()) (k:Int -> Int -> b). "
    "either @<> @Int @() @b req (\\(v:Int). k v 0) (\\(u:()). k s s), "
    "traverse -> /\\a b. \\(n:Int) (s:Int) (l:Fin n => (Int -> a)) (k:Int -> (Fin n => a) -> b). "
    "k s (for i:Fin n. l.i s)}"
)
READER_HANDLER = (
    "handle[\\x. x, ()] {return -> /\\a. \\(s:()) (x:a). x, "
    "ask -> /\\b. \\(s:()) (u:()) (k:() -> Int -> b). k () 42, "
    "traverse -> /\\a b. \\(n:Int) (s:()) (l:Fin n => (() -> a)) (k:() -> (Fin n => a) -> b). "
    "k () (for i:Fin n. l.i ())}"
)
LOOP = (
    '(for i:Fin 5. if (i |> Int) == 2 then (perform tell "!"; perform throw[()] "error"; '
    'perform tell "unreachable") else perform tell (show (i |> Int)))'
)

CHOOSE_HANDLER = (
    "handle[\\x. List x, ()] {return -> /\\a. \\(s:()) (x:a). toList @<> @a 1 <x>, "
    "choose -> /\\b. \\(s:()) (u:()) (k:() -> Bool -> List b). "
    "r1 <- k () True; r2 <- k () False; concatList @<> @b 2 <r1, r2>, "
    "traverse -> /\\a b. \\(n:Int) (s:()) (l:Fin n => (() -> List a)) (k:() -> (Fin n => a) -> List b). "
    "results <- (for i:Fin n. l.i ()); ps <- cartesian @<> @a n results; "
    "concatMap @<> @(Fin n => a) @b (k ()) ps}"
)

EXAMPLES: dict[str, str] = {
    "state": f"{STATE_HANDLER} 0 (perform state (Left[()] 21); x <- perform state (Right[Int] ()); x + x)",
    "amb_bool": f"{CHOOSE_HANDLER} () "
    "(x <- perform choose (); y <- perform choose (); if x then y else False)",
    "accum_seq": "runAccum @<> @() (\\<accum> (u:()). perform accum 1; perform accum 2)",
    "accum_done": "runAccum @<> @String "
    '(\\<accum> (u:()). (for i:Fin 3. perform accum (<1, 2, 3>.i)); "done")',
    "reader_for": f"{READER_HANDLER} () (for x:Fin 5. perform ask ())",
    "sum": "snd "
    "(runAccum @<> @(Fin 3 => ()) (\\<accum> (u:()). for i:Fin 3. perform accum (<1, 2, 3>.i)))",
    "weak_exc": "runTell @<> @(Either String ()) (\\<tell> (u:()). runWeakExcept @<tell> @() "
    f'(\\<throw, tell> (u:()). perform tell "start "; {LOOP}; perform tell " end"))',
    "weak_exc_swapped": "runWeakExcept @<> @((), String) (\\<throw> (u:()). runTell @<throw> @() "
    f'(\\<tell, throw> (u:()). perform tell "start "; {LOOP}; perform tell " end"))',
    "amb_coins": "runAmb @<> @String (\\<amb> (u:()). "
    'chars <- (for i:Fin 3. perform amb[String] <"H", "T">); concat @<amb> 3 chars)',
    "rng_for": 'runRandom @<> @(Fin 2 => String) "k" (\\<sampleUniform> (u:()). '
    "for i:Fin 2. perform sampleUniform ())",
    "rng_unrolled": 'runRandom @<> @(Fin 2 => String) "k" (\\<sampleUniform> (u:()). '
    "u0 <- perform sampleUniform (); u1 <- perform sampleUniform (); <u0, u1>)",
}

EXPECTED: dict[str, str] = {
    "state": "42",
    "amb_bool": "<True, False, False, False>",
    "accum_seq": "((), 3)",
    "accum_done": '("done", 6)',
    "reader_for": "<42, 42, 42, 42, 42>",
    "sum": "6",
    "weak_exc": '(Left "error", "start 01!34")',
    "weak_exc_swapped": 'Left "error"',
    "amb_coins": '<"HHH", "HHT", "HTH", "HTT", "THH", "THT", "TTH", "TTT">',
    "rng_for": '<"k_0_0", "k_1_0">',
    "rng_unrolled": '<"k_0", "k_1_0">',
}
"""The values of the untyped golden tests of the same names (the tests check they agree)."""
