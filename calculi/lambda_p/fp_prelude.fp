-- The Fp prelude: the effect signature Σ, library functions whose types are trusted (each
-- implemented by a λp term, after ":="), and the typed example handlers of ICFP'24 §5.
-- Rows are exact in Fp (there is no subeffecting), so library functions are polymorphic in
-- the row e of the context they are called in.

effect state : Either Int () -> Int
effect accum : Int -> ()
effect tell : String -> ()
effect ask : () -> Int
effect throw : forall a. String -> a
effect amb : forall a. (Fin 2 => a) -> a
effect sampleUniform : () -> String
effect choose : () -> Bool

const either : forall e:eff. forall x y r. Either x y -> <|e> (x -> <|e> r) -> <|e> (y -> <|e> r) -> <|e> r
  := \v l r. case v of {Left a -> l a | Right b -> r b}
const sum : forall e:eff. (n:Int) -> <|e> (Fin n => Int) -> <|e> Int := \n xs. fold (+) 0 xs
const concat : forall e:eff. (n:Int) -> <|e> (Fin n => String) -> <|e> String := \n xs. fold (++) "" xs
const firstFailure : forall e:eff. forall x a r.
    (n:Int) -> <|e> (Fin n => Either x a) -> <|e> (x -> <|e> r) -> <|e> ((Fin n => a) -> <|e> r) -> <|e> r
  := \n rs onLeft onRight. case firstFailure rs of {Left e -> onLeft e | Right xs -> onRight xs}
const toList : forall e:eff. forall a. (n:Int) -> <|e> (Fin n => a) -> <|e> List a := \n xs. xs
const concatList : forall e:eff. forall a. (n:Int) -> <|e> (Fin n => List a) -> <|e> List a
  := \n xss. concatenate xss
const concatMap : forall e:eff. forall a b. (a -> <|e> List b) -> <|e> List a -> <|e> List b
  := \g xs. concatenate (map g xs)
const cartesian : forall e:eff. forall a. (n:Int) -> <|e> (Fin n => List a) -> <|e> List (Fin n => a)
  := \n xss. cartesianProd xss
-- the mock PRNG: keys are strings; splitKey key n is the first n of the n+1 keys ICFP'24's
-- traverse clause splits into, and lastKey key n the last of them
const splitKey : forall e:eff. String -> <|e> (n:Int) -> <|e> (Fin n => String) := \key n. splitKey key n
const lastKey : forall e:eff. String -> <|e> Int -> <|e> String := \key n. key ++ "_" ++ show n
const genUniform : forall e:eff. String -> <|e> String := genUniform

-- runAccum (ICFP'24 §3.2, §5.1) on integers: ρ a = (a, Int), the parameter is what was added
def runAccum = /\e:eff. /\a. \<|e> (body:() -> <accum | e> a).
  handle[\x. (x, Int), Int] {
    return -> /\a. \<|e> (s:Int) (x:a). (x, s),
    accum -> /\b. \<|e> (s:Int) (x:Int) (k:Int -> <|e> () -> <|e> (b, Int)). k (s + x) (),
    traverse -> /\a b. \<|e> (n:Int) (s:Int) (l:Fin n => (Int -> <|e> (a, Int)))
        (k:Int -> <|e> (Fin n => a) -> <|e> (b, Int)).
      pairs <- (for i:Fin n. l.i 0);
      os <- (for i:Fin n. snd pairs.i);
      rs <- (for i:Fin n. fst pairs.i);
      k (s + sum @<|e> n os) rs
  } 0 (body ())

-- the same accumulator on strings, for the operation tell
def runTell = /\e:eff. /\a. \<|e> (body:() -> <tell | e> a).
  handle[\x. (x, String), String] {
    return -> /\a. \<|e> (s:String) (x:a). (x, s),
    tell -> /\b. \<|e> (s:String) (x:String) (k:String -> <|e> () -> <|e> (b, String)). k (s ++ x) (),
    traverse -> /\a b. \<|e> (n:Int) (s:String) (l:Fin n => (String -> <|e> (a, String)))
        (k:String -> <|e> (Fin n => a) -> <|e> (b, String)).
      pairs <- (for i:Fin n. l.i "");
      os <- (for i:Fin n. snd pairs.i);
      rs <- (for i:Fin n. fst pairs.i);
      k (s ++ concat @<|e> n os) rs
  } "" (body ())

-- weak exceptions (ICFP'24 §5.2): ρ a = Either String a; a failing iteration does not stop the
-- others, the loop fails with the lowest-index failure
def runWeakExcept = /\e:eff. /\a. \<|e> (body:() -> <throw | e> a).
  handle[\x. Either String x, ()] {
    return -> /\a. \<|e> (s:()) (x:a). Right[String] x,
    throw -> /\c b. \<|e> (s:()) (err:String) (k:() -> <|e> c -> <|e> Either String b). Left[b] err,
    traverse -> /\a b. \<|e> (n:Int) (s:()) (l:Fin n => (() -> <|e> Either String a))
        (k:() -> <|e> (Fin n => a) -> <|e> Either String b).
      rs <- (for i:Fin n. l.i ());
      firstFailure @<|e> @String @a @(Either String b) n rs (\<|e> (err:String). Left[b] err) (k ())
  } () (body ())

-- nondeterminism (ICFP'24 §5.4): ρ a = List a, every choice of every loop iteration
def runAmb = /\e:eff. /\a. \<|e> (body:() -> <amb | e> a).
  handle[\x. List x, ()] {
    return -> /\a. \<|e> (s:()) (x:a). toList @<|e> @a 1 <x>,
    amb -> /\c b. \<|e> (s:()) (opts:Fin 2 => c) (k:() -> <|e> c -> <|e> List b).
      concatList @<|e> @b 2 (for i:Fin 2. k () opts.i),
    traverse -> /\a b. \<|e> (n:Int) (s:()) (l:Fin n => (() -> <|e> List a))
        (k:() -> <|e> (Fin n => a) -> <|e> List b).
      results <- (for i:Fin n. l.i ());
      ps <- cartesian @<|e> @a n results;
      concatMap @<|e> @(Fin n => a) @b (k ()) ps
  } () (body ())

-- the PRNG (ICFP'24 §5.3) with mock keys: the parameter is the key
def runRandom = /\e:eff. /\a. \<|e> (seed:String) (body:() -> <sampleUniform | e> a).
  handle[\x. x, String] {
    return -> /\a. \<|e> (key:String) (x:a). x,
    sampleUniform -> /\b. \<|e> (key:String) (u:()) (k:String -> <|e> String -> <|e> b).
      keys <- splitKey @<|e> key 2;
      k keys.(1 |> Fin 2) (genUniform @<|e> keys.(0 |> Fin 2)),
    traverse -> /\a b. \<|e> (n:Int) (key:String) (l:Fin n => (String -> <|e> a))
        (k:String -> <|e> (Fin n => a) -> <|e> b).
      keys <- splitKey @<|e> key n;
      xs <- (for i:Fin n. l.i keys.i);
      k (lastKey @<|e> key n) xs
  } seed (body ())
