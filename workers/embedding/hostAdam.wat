;; Adam's update of host embedding rows, four float32 lanes at a time (WebAssembly SIMD).
;;
;; The same operations, in the same order, as the JavaScript loops of hostEmbeddingTable.ts:
;; float32 arithmetic, each operation rounded to float32 as torch's float32 Adam rounds it (the
;; loops round with Math.fround after each one), no fused multiply-add, so both give the same
;; results bit for bit. Compiled by scripts/build-host-adam.mjs into hostAdamWasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; `steps` Adam steps of the `n` float32 entries at byte offsets w, m, v (weights and moments).
  ;; Step s reads its step size lr / (1 - beta1^t) and 1 / sqrt(1 - beta2^t) as two float64 at
  ;; coef + 16 s, used rounded to float32 (as every coefficient). The gradient of an entry is
  ;; grad + wd * w, where grad is the float32 at g (the same offset as the entry's) when g is
  ;; not 0, and 0 otherwise (a decay-only step).
  (func (export "adam")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32) (param $n i32)
    (param $coef i32) (param $steps i32)
    (param $wd f64) (param $b1 f64) (param $b2 f64) (param $eps f64)
    (local $s i32) (local $o i32) (local $quads i32) (local $end i32)
    (local $wd32 f32) (local $b132 f32) (local $b232 f32) (local $c132 f32) (local $c232 f32)
    (local $eps32 f32)
    (local $vwd v128) (local $vb1 v128) (local $vb2 v128) (local $vc1 v128) (local $vc2 v128)
    (local $veps v128) (local $vss v128) (local $vib v128)
    (local $wi v128) (local $gi v128) (local $mi v128) (local $vi v128)
    (local $ss f32) (local $ib f32) (local $swi f32) (local $sgi f32) (local $smi f32)
    (local $svi f32)
    (local.set $wd32 (f32.demote_f64 (local.get $wd)))
    (local.set $b132 (f32.demote_f64 (local.get $b1)))
    (local.set $b232 (f32.demote_f64 (local.get $b2)))
    (local.set $c132 (f32.demote_f64 (f64.sub (f64.const 1) (local.get $b1))))
    (local.set $c232 (f32.demote_f64 (f64.sub (f64.const 1) (local.get $b2))))
    (local.set $eps32 (f32.demote_f64 (local.get $eps)))
    (local.set $vwd (f32x4.splat (local.get $wd32)))
    (local.set $vb1 (f32x4.splat (local.get $b132)))
    (local.set $vb2 (f32x4.splat (local.get $b232)))
    (local.set $vc1 (f32x4.splat (local.get $c132)))
    (local.set $vc2 (f32x4.splat (local.get $c232)))
    (local.set $veps (f32x4.splat (local.get $eps32)))
    ;; Bytes covered by whole groups of four entries, and by all of them.
    (local.set $quads (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $s (i32.const 0))
    (block $stepsDone
      (loop $step
        (br_if $stepsDone (i32.ge_s (local.get $s) (local.get $steps)))
        (local.set $ss
          (f32.demote_f64
            (f64.load (i32.add (local.get $coef) (i32.shl (local.get $s) (i32.const 4))))))
        (local.set $ib
          (f32.demote_f64
            (f64.load offset=8 (i32.add (local.get $coef) (i32.shl (local.get $s) (i32.const 4))))))
        (local.set $vss (f32x4.splat (local.get $ss)))
        (local.set $vib (f32x4.splat (local.get $ib)))
        (local.set $o (i32.const 0))
        (block $quadsDone
          (loop $quad
            (br_if $quadsDone (i32.ge_u (local.get $o) (local.get $quads)))
            (local.set $wi (v128.load (i32.add (local.get $w) (local.get $o))))
            ;; g = grad + wd * w (grad = +0 in a decay-only step, as `0 + wd * w` in JavaScript).
            (local.set $gi
              (f32x4.add
                (if (result v128) (local.get $g)
                  (then (v128.load (i32.add (local.get $g) (local.get $o))))
                  (else (f32x4.splat (f32.const 0))))
                (f32x4.mul (local.get $vwd) (local.get $wi))))
            ;; m = beta1 * m + (1 - beta1) * g, v = beta2 * v + (1 - beta2) * g * g
            (local.set $mi
              (f32x4.add
                (f32x4.mul (local.get $vb1) (v128.load (i32.add (local.get $m) (local.get $o))))
                (f32x4.mul (local.get $vc1) (local.get $gi))))
            (local.set $vi
              (f32x4.add
                (f32x4.mul (local.get $vb2) (v128.load (i32.add (local.get $v) (local.get $o))))
                (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $gi)) (local.get $gi))))
            (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mi))
            (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vi))
            ;; w = w - step size * m / (sqrt(v) * (1 / sqrt(1 - beta2^t)) + eps)
            (v128.store (i32.add (local.get $w) (local.get $o))
              (f32x4.sub (local.get $wi)
                (f32x4.div (f32x4.mul (local.get $vss) (local.get $mi))
                  (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vi)) (local.get $vib))
                    (local.get $veps)))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        ;; The last entries of a count that is not a multiple of four, one at a time.
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $swi (f32.load (i32.add (local.get $w) (local.get $o))))
            (local.set $sgi
              (f32.add
                (if (result f32) (local.get $g)
                  (then (f32.load (i32.add (local.get $g) (local.get $o))))
                  (else (f32.const 0)))
                (f32.mul (local.get $wd32) (local.get $swi))))
            (local.set $smi
              (f32.add
                (f32.mul (local.get $b132) (f32.load (i32.add (local.get $m) (local.get $o))))
                (f32.mul (local.get $c132) (local.get $sgi))))
            (local.set $svi
              (f32.add
                (f32.mul (local.get $b232) (f32.load (i32.add (local.get $v) (local.get $o))))
                (f32.mul (f32.mul (local.get $c232) (local.get $sgi)) (local.get $sgi))))
            (f32.store (i32.add (local.get $m) (local.get $o)) (local.get $smi))
            (f32.store (i32.add (local.get $v) (local.get $o)) (local.get $svi))
            (f32.store (i32.add (local.get $w) (local.get $o))
              (f32.sub (local.get $swi)
                (f32.div (f32.mul (local.get $ss) (local.get $smi))
                  (f32.add (f32.mul (f32.sqrt (local.get $svi)) (local.get $ib))
                    (local.get $eps32)))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $rest)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $step))))

  ;; The entries above `t` in magnitude (|w| > t, as a float32 comparison) of each of `rows` rows
  ;; of `d` float32 entries from byte offset w, each count stored as an unsigned 16-bit integer
  ;; at out + 2 r (PEP's non-zero count of a row whose threshold is t).
  (func (export "count")
    (param $w i32) (param $rows i32) (param $d i32) (param $t f32) (param $out i32)
    (local $r i32) (local $o i32) (local $quadEnd i32) (local $rowEnd i32) (local $c i32)
    (local $acc v128) (local $vt v128)
    (local.set $vt (f32x4.splat (local.get $t)))
    (local.set $o (local.get $w))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $rowEnd (i32.add (local.get $o) (i32.shl (local.get $d) (i32.const 2))))
        (local.set $quadEnd
          (i32.add (local.get $o)
            (i32.shl (i32.and (local.get $d) (i32.const -4)) (i32.const 2))))
        (local.set $acc (i32x4.splat (i32.const 0)))
        (block $quadsDone
          (loop $quad
            (br_if $quadsDone (i32.ge_u (local.get $o) (local.get $quadEnd)))
            ;; a lane above t is -1: subtracting it counts it
            (local.set $acc
              (i32x4.sub (local.get $acc)
                (f32x4.gt (f32x4.abs (v128.load (local.get $o))) (local.get $vt))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        (local.set $c
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $o) (local.get $rowEnd)))
            (local.set $c
              (i32.add (local.get $c)
                (f32.gt (f32.abs (f32.load (local.get $o))) (local.get $t))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $rest)))
        (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 1))) (local.get $c))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; The blocks of a long lazy catch-up (HostEmbeddingTable.replayAdam after its first 16 steps)
  ;; for the `n` entries (a multiple of four) at w, m, v: `blocks` blocks of 15 float64 at
  ;; `plan`, each its length n, beta1^j and beta2^j at its first, middle and last step j, those
  ;; steps' step sizes and 1 / sqrt(1 - beta2^t), beta1^n and beta2^n (each used rounded to
  ;; float32, and 1 - b from the float64 b). Within a block the decay gradient g = wd * w is
  ;; constant; the block's steps sum by Simpson's rule.
  (func (export "blocks")
    (param $w i32) (param $m i32) (param $v i32) (param $n i32) (param $plan i32)
    (param $blocks i32) (param $wd f64) (param $eps f64)
    (local $b i32) (local $p i32) (local $o i32) (local $end i32)
    (local $vwd v128) (local $veps v128) (local $len v128) (local $zero v128)
    (local $b10 v128) (local $b11 v128) (local $b12 v128)
    (local $b20 v128) (local $b21 v128) (local $b22 v128)
    (local $size0 v128) (local $size1 v128) (local $size2 v128)
    (local $bc20 v128) (local $bc21 v128) (local $bc22 v128)
    (local $b1n v128) (local $b2n v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128)
    (local $c20 v128) (local $c21 v128) (local $c22 v128) (local $c1n v128) (local $c2n v128)
    (local $wi v128) (local $mi v128) (local $vi v128) (local $g v128)
    (local $sum v128) (local $delta v128)
    (local.set $vwd (f32x4.splat (f32.demote_f64 (local.get $wd))))
    (local.set $veps (f32x4.splat (f32.demote_f64 (local.get $eps))))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $blocksDone
      (loop $block
        (br_if $blocksDone (i32.ge_s (local.get $b) (local.get $blocks)))
        (local.set $p (i32.add (local.get $plan) (i32.mul (local.get $b) (i32.const 120))))
        (local.set $len (f32x4.splat (f32.demote_f64 (f64.load (local.get $p)))))
        (local.set $b10 (f32x4.splat (f32.demote_f64 (f64.load offset=8 (local.get $p)))))
        (local.set $b11 (f32x4.splat (f32.demote_f64 (f64.load offset=16 (local.get $p)))))
        (local.set $b12 (f32x4.splat (f32.demote_f64 (f64.load offset=24 (local.get $p)))))
        (local.set $b20 (f32x4.splat (f32.demote_f64 (f64.load offset=32 (local.get $p)))))
        (local.set $b21 (f32x4.splat (f32.demote_f64 (f64.load offset=40 (local.get $p)))))
        (local.set $b22 (f32x4.splat (f32.demote_f64 (f64.load offset=48 (local.get $p)))))
        (local.set $size0 (f32x4.splat (f32.demote_f64 (f64.load offset=56 (local.get $p)))))
        (local.set $size1 (f32x4.splat (f32.demote_f64 (f64.load offset=64 (local.get $p)))))
        (local.set $size2 (f32x4.splat (f32.demote_f64 (f64.load offset=72 (local.get $p)))))
        (local.set $bc20 (f32x4.splat (f32.demote_f64 (f64.load offset=80 (local.get $p)))))
        (local.set $bc21 (f32x4.splat (f32.demote_f64 (f64.load offset=88 (local.get $p)))))
        (local.set $bc22 (f32x4.splat (f32.demote_f64 (f64.load offset=96 (local.get $p)))))
        (local.set $b1n (f32x4.splat (f32.demote_f64 (f64.load offset=104 (local.get $p)))))
        (local.set $b2n (f32x4.splat (f32.demote_f64 (f64.load offset=112 (local.get $p)))))
        ;; 1 - b for each of them (from the float64 b), once per block
        (local.set $c10 (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=8 (local.get $p))))))
        (local.set $c11 (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=16 (local.get $p))))))
        (local.set $c12 (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=24 (local.get $p))))))
        (local.set $c20 (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=32 (local.get $p))))))
        (local.set $c21 (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=40 (local.get $p))))))
        (local.set $c22 (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=48 (local.get $p))))))
        (local.set $c1n (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=104 (local.get $p))))))
        (local.set $c2n (f32x4.splat (f32.demote_f64
          (f64.sub (f64.const 1) (f64.load offset=112 (local.get $p))))))
        (local.set $o (i32.const 0))
        (block $quadsDone
          (loop $quad
            (br_if $quadsDone (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $wi (v128.load (i32.add (local.get $w) (local.get $o))))
            (local.set $mi (v128.load (i32.add (local.get $m) (local.get $o))))
            (local.set $vi (v128.load (i32.add (local.get $v) (local.get $o))))
            (local.set $g (f32x4.mul (local.get $vwd) (local.get $wi)))
            ;; sum = ((0 + f(first)) + 4 f(middle)) + f(last),
            ;; f(j) = size * m_j / (sqrt(v_j) * bc2 + eps),
            ;; m_j = b1j * m + (1 - b1j) * g, v_j = b2j * v + (1 - b2j) * g * g
            (local.set $sum
              (f32x4.add (local.get $zero)
                (f32x4.div
                  (f32x4.mul (local.get $size0)
                    (f32x4.add (f32x4.mul (local.get $b10) (local.get $mi))
                      (f32x4.mul (local.get $c10) (local.get $g))))
                  (f32x4.add
                    (f32x4.mul
                      (f32x4.sqrt
                        (f32x4.add (f32x4.mul (local.get $b20) (local.get $vi))
                          (f32x4.mul (f32x4.mul (local.get $c20) (local.get $g)) (local.get $g))))
                      (local.get $bc20))
                    (local.get $veps)))))
            (local.set $sum
              (f32x4.add (local.get $sum)
                (f32x4.mul (f32x4.splat (f32.const 4))
                  (f32x4.div
                    (f32x4.mul (local.get $size1)
                      (f32x4.add (f32x4.mul (local.get $b11) (local.get $mi))
                        (f32x4.mul (local.get $c11) (local.get $g))))
                    (f32x4.add
                      (f32x4.mul
                        (f32x4.sqrt
                          (f32x4.add (f32x4.mul (local.get $b21) (local.get $vi))
                            (f32x4.mul (f32x4.mul (local.get $c21) (local.get $g))
                              (local.get $g))))
                        (local.get $bc21))
                      (local.get $veps))))))
            (local.set $sum
              (f32x4.add (local.get $sum)
                (f32x4.div
                  (f32x4.mul (local.get $size2)
                    (f32x4.add (f32x4.mul (local.get $b12) (local.get $mi))
                      (f32x4.mul (local.get $c12) (local.get $g))))
                  (f32x4.add
                    (f32x4.mul
                      (f32x4.sqrt
                        (f32x4.add (f32x4.mul (local.get $b22) (local.get $vi))
                          (f32x4.mul (f32x4.mul (local.get $c22) (local.get $g)) (local.get $g))))
                      (local.get $bc22))
                    (local.get $veps)))))
            (local.set $delta
              (f32x4.div (f32x4.mul (local.get $len) (local.get $sum))
                (f32x4.splat (f32.const 6))))
            ;; w = delta and w of one sign and |delta| >= |w| ? 0 : w - delta (a move towards
            ;; zero stops there; a move away is taken whole)
            (v128.store (i32.add (local.get $w) (local.get $o))
              (v128.bitselect (local.get $zero)
                (f32x4.sub (local.get $wi) (local.get $delta))
                (v128.and
                  (v128.or
                    (v128.and (f32x4.gt (local.get $delta) (local.get $zero))
                      (f32x4.gt (local.get $wi) (local.get $zero)))
                    (v128.and (f32x4.lt (local.get $delta) (local.get $zero))
                      (f32x4.lt (local.get $wi) (local.get $zero))))
                  (f32x4.ge (f32x4.abs (local.get $delta)) (f32x4.abs (local.get $wi))))))
            (v128.store (i32.add (local.get $m) (local.get $o))
              (f32x4.add (f32x4.mul (local.get $b1n) (local.get $mi))
                (f32x4.mul (local.get $c1n) (local.get $g))))
            (v128.store (i32.add (local.get $v) (local.get $o))
              (f32x4.add (f32x4.mul (local.get $b2n) (local.get $vi))
                (f32x4.mul (f32x4.mul (local.get $c2n) (local.get $g)) (local.get $g))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))))
