;; Adam's update of host embedding rows, two float64 lanes at a time (WebAssembly SIMD).
;;
;; The same operations, in the same order and precision, as the JavaScript loops of
;; hostEmbeddingTable.ts (float64 arithmetic, the moments rounded to float32 as the arrays store
;; them, no fused multiply-add), so both give the same float32 results bit for bit; the divider
;; works on two entries at once. Compiled by scripts/build-host-adam.mjs into hostAdamWasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; `steps` Adam steps of the `n` float32 entries at byte offsets w, m, v (weights and moments).
  ;; Step s reads its step size lr / (1 - beta1^t) and 1 / sqrt(1 - beta2^t) as two float64 at
  ;; coef + 16 s. The gradient of an entry is grad + wd * w, where grad is the float32 at g (the
  ;; same offset as the entry's) when g is not 0, and 0 otherwise (a decay-only step).
  (func (export "adam")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32) (param $n i32)
    (param $coef i32) (param $steps i32)
    (param $wd f64) (param $b1 f64) (param $b2 f64) (param $eps f64)
    (local $s i32) (local $o i32) (local $pairs i32)
    (local $vwd v128) (local $vb1 v128) (local $vb2 v128) (local $vc1 v128) (local $vc2 v128)
    (local $veps v128) (local $vss v128) (local $vib v128)
    (local $wi v128) (local $gi v128) (local $mi v128) (local $vi v128)
    (local $ss f64) (local $ib f64) (local $swi f64) (local $sgi f64) (local $smi f64)
    (local $svi f64)
    (local.set $vwd (f64x2.splat (local.get $wd)))
    (local.set $vb1 (f64x2.splat (local.get $b1)))
    (local.set $vb2 (f64x2.splat (local.get $b2)))
    (local.set $vc1 (f64x2.splat (f64.sub (f64.const 1) (local.get $b1))))
    (local.set $vc2 (f64x2.splat (f64.sub (f64.const 1) (local.get $b2))))
    (local.set $veps (f64x2.splat (local.get $eps)))
    ;; Bytes covered by whole pairs of entries.
    (local.set $pairs (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2)))
    (local.set $s (i32.const 0))
    (block $stepsDone
      (loop $step
        (br_if $stepsDone (i32.ge_s (local.get $s) (local.get $steps)))
        (local.set $ss (f64.load (i32.add (local.get $coef) (i32.shl (local.get $s) (i32.const 4)))))
        (local.set $ib
          (f64.load offset=8 (i32.add (local.get $coef) (i32.shl (local.get $s) (i32.const 4)))))
        (local.set $vss (f64x2.splat (local.get $ss)))
        (local.set $vib (f64x2.splat (local.get $ib)))
        (local.set $o (i32.const 0))
        (block $pairsDone
          (loop $pair
            (br_if $pairsDone (i32.ge_u (local.get $o) (local.get $pairs)))
            (local.set $wi
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $o)))))
            ;; g = grad + wd * w (grad = +0 in a decay-only step, as `0 + wd * w` in JavaScript).
            (local.set $gi
              (f64x2.add
                (if (result v128) (local.get $g)
                  (then
                    (f64x2.promote_low_f32x4
                      (v128.load64_zero (i32.add (local.get $g) (local.get $o)))))
                  (else (f64x2.splat (f64.const 0))))
                (f64x2.mul (local.get $vwd) (local.get $wi))))
            ;; m = fround(beta1 * m + (1 - beta1) * g), v = fround(beta2 * v + (1 - beta2) * g * g)
            (local.set $mi
              (f64x2.promote_low_f32x4
                (f32x4.demote_f64x2_zero
                  (f64x2.add
                    (f64x2.mul (local.get $vb1)
                      (f64x2.promote_low_f32x4
                        (v128.load64_zero (i32.add (local.get $m) (local.get $o)))))
                    (f64x2.mul (local.get $vc1) (local.get $gi))))))
            (local.set $vi
              (f64x2.promote_low_f32x4
                (f32x4.demote_f64x2_zero
                  (f64x2.add
                    (f64x2.mul (local.get $vb2)
                      (f64x2.promote_low_f32x4
                        (v128.load64_zero (i32.add (local.get $v) (local.get $o)))))
                    (f64x2.mul (f64x2.mul (local.get $vc2) (local.get $gi)) (local.get $gi))))))
            (v128.store64_lane 0 (i32.add (local.get $m) (local.get $o))
              (f32x4.demote_f64x2_zero (local.get $mi)))
            (v128.store64_lane 0 (i32.add (local.get $v) (local.get $o))
              (f32x4.demote_f64x2_zero (local.get $vi)))
            ;; w = fround(w - step size * m / (sqrt(v) / sqrt(1 - beta2^t) + eps))
            (v128.store64_lane 0 (i32.add (local.get $w) (local.get $o))
              (f32x4.demote_f64x2_zero
                (f64x2.sub (local.get $wi)
                  (f64x2.div (f64x2.mul (local.get $vss) (local.get $mi))
                    (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vi)) (local.get $vib))
                      (local.get $veps))))))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (br $pair)))
        ;; The last entry of an odd count, one lane.
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (local.set $swi (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $o)))))
            (local.set $sgi
              (f64.add
                (if (result f64) (local.get $g)
                  (then (f64.promote_f32 (f32.load (i32.add (local.get $g) (local.get $o)))))
                  (else (f64.const 0)))
                (f64.mul (local.get $wd) (local.get $swi))))
            (local.set $smi
              (f64.promote_f32
                (f32.demote_f64
                  (f64.add
                    (f64.mul (local.get $b1)
                      (f64.promote_f32 (f32.load (i32.add (local.get $m) (local.get $o)))))
                    (f64.mul (f64.sub (f64.const 1) (local.get $b1)) (local.get $sgi))))))
            (local.set $svi
              (f64.promote_f32
                (f32.demote_f64
                  (f64.add
                    (f64.mul (local.get $b2)
                      (f64.promote_f32 (f32.load (i32.add (local.get $v) (local.get $o)))))
                    (f64.mul (f64.mul (f64.sub (f64.const 1) (local.get $b2)) (local.get $sgi))
                      (local.get $sgi))))))
            (f32.store (i32.add (local.get $m) (local.get $o)) (f32.demote_f64 (local.get $smi)))
            (f32.store (i32.add (local.get $v) (local.get $o)) (f32.demote_f64 (local.get $svi)))
            (f32.store (i32.add (local.get $w) (local.get $o))
              (f32.demote_f64
                (f64.sub (local.get $swi)
                  (f64.div (f64.mul (local.get $ss) (local.get $smi))
                    (f64.add (f64.mul (f64.sqrt (local.get $svi)) (local.get $ib))
                      (local.get $eps))))))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $step))))

  ;; The blocks of a long lazy catch-up (HostEmbeddingTable.replayAdam after its first 16 steps)
  ;; for the `n` entries (an even count) at w, m, v: `blocks` blocks of 15 float64 at `plan`,
  ;; each its length n, beta1^j and beta2^j at its first, middle and last step j, those steps'
  ;; step sizes and 1 / sqrt(1 - beta2^t), beta1^n and beta2^n. Within a block the decay
  ;; gradient g = wd * w is constant; the block's steps sum by Simpson's rule.
  (func (export "blocks")
    (param $w i32) (param $m i32) (param $v i32) (param $n i32) (param $plan i32)
    (param $blocks i32) (param $wd f64) (param $eps f64)
    (local $b i32) (local $p i32) (local $o i32) (local $end i32)
    (local $vwd v128) (local $veps v128) (local $len v128)
    (local $b10 v128) (local $b11 v128) (local $b12 v128)
    (local $b20 v128) (local $b21 v128) (local $b22 v128)
    (local $size0 v128) (local $size1 v128) (local $size2 v128)
    (local $bc20 v128) (local $bc21 v128) (local $bc22 v128)
    (local $b1n v128) (local $b2n v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128)
    (local $c20 v128) (local $c21 v128) (local $c22 v128) (local $c1n v128) (local $c2n v128)
    (local $wi v128) (local $mi v128) (local $vi v128) (local $g v128)
    (local $sum v128) (local $delta v128)
    (local.set $vwd (f64x2.splat (local.get $wd)))
    (local.set $veps (f64x2.splat (local.get $eps)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $blocksDone
      (loop $block
        (br_if $blocksDone (i32.ge_s (local.get $b) (local.get $blocks)))
        (local.set $p (i32.add (local.get $plan) (i32.mul (local.get $b) (i32.const 120))))
        (local.set $len (v128.load64_splat (local.get $p)))
        (local.set $b10 (v128.load64_splat offset=8 (local.get $p)))
        (local.set $b11 (v128.load64_splat offset=16 (local.get $p)))
        (local.set $b12 (v128.load64_splat offset=24 (local.get $p)))
        (local.set $b20 (v128.load64_splat offset=32 (local.get $p)))
        (local.set $b21 (v128.load64_splat offset=40 (local.get $p)))
        (local.set $b22 (v128.load64_splat offset=48 (local.get $p)))
        (local.set $size0 (v128.load64_splat offset=56 (local.get $p)))
        (local.set $size1 (v128.load64_splat offset=64 (local.get $p)))
        (local.set $size2 (v128.load64_splat offset=72 (local.get $p)))
        (local.set $bc20 (v128.load64_splat offset=80 (local.get $p)))
        (local.set $bc21 (v128.load64_splat offset=88 (local.get $p)))
        (local.set $bc22 (v128.load64_splat offset=96 (local.get $p)))
        (local.set $b1n (v128.load64_splat offset=104 (local.get $p)))
        (local.set $b2n (v128.load64_splat offset=112 (local.get $p)))
        ;; 1 - b for each of them, once per block
        (local.set $c10 (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b10)))
        (local.set $c11 (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b11)))
        (local.set $c12 (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b12)))
        (local.set $c20 (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b20)))
        (local.set $c21 (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b21)))
        (local.set $c22 (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b22)))
        (local.set $c1n (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b1n)))
        (local.set $c2n (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $b2n)))
        (local.set $o (i32.const 0))
        (block $pairsDone
          (loop $pair
            (br_if $pairsDone (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $wi
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $o)))))
            (local.set $mi
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $m) (local.get $o)))))
            (local.set $vi
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $v) (local.get $o)))))
            (local.set $g (f64x2.mul (local.get $vwd) (local.get $wi)))
            ;; sum = 0 + f(first) + 4 f(middle) + 1 f(last), f(j) = size * m_j / (sqrt(v_j) * bc2 + eps),
            ;; m_j = b1j * m + (1 - b1j) * g, v_j = b2j * v + (1 - b2j) * g * g
            (local.set $sum
              (f64x2.add (f64x2.splat (f64.const 0))
                (f64x2.div
                  (f64x2.mul (local.get $size0)
                    (f64x2.add (f64x2.mul (local.get $b10) (local.get $mi))
                      (f64x2.mul (local.get $c10)
                        (local.get $g))))
                  (f64x2.add
                    (f64x2.mul
                      (f64x2.sqrt
                        (f64x2.add (f64x2.mul (local.get $b20) (local.get $vi))
                          (f64x2.mul
                            (f64x2.mul (local.get $c20)
                              (local.get $g))
                            (local.get $g))))
                      (local.get $bc20))
                    (local.get $veps)))))
            (local.set $sum
              (f64x2.add (local.get $sum)
                (f64x2.mul (f64x2.splat (f64.const 4))
                  (f64x2.div
                    (f64x2.mul (local.get $size1)
                      (f64x2.add (f64x2.mul (local.get $b11) (local.get $mi))
                        (f64x2.mul (local.get $c11)
                          (local.get $g))))
                    (f64x2.add
                      (f64x2.mul
                        (f64x2.sqrt
                          (f64x2.add (f64x2.mul (local.get $b21) (local.get $vi))
                            (f64x2.mul
                              (f64x2.mul (local.get $c21)
                                (local.get $g))
                              (local.get $g))))
                        (local.get $bc21))
                      (local.get $veps))))))
            (local.set $sum
              (f64x2.add (local.get $sum)
                (f64x2.div
                  (f64x2.mul (local.get $size2)
                    (f64x2.add (f64x2.mul (local.get $b12) (local.get $mi))
                      (f64x2.mul (local.get $c12)
                        (local.get $g))))
                  (f64x2.add
                    (f64x2.mul
                      (f64x2.sqrt
                        (f64x2.add (f64x2.mul (local.get $b22) (local.get $vi))
                          (f64x2.mul
                            (f64x2.mul (local.get $c22)
                              (local.get $g))
                            (local.get $g))))
                      (local.get $bc22))
                    (local.get $veps)))))
            (local.set $delta
              (f64x2.div (f64x2.mul (local.get $len) (local.get $sum))
                (f64x2.splat (f64.const 6))))
            ;; w = delta * w > 0 and |delta| >= |w| ? 0 : w - delta (a move towards zero stops there)
            (v128.store64_lane 0 (i32.add (local.get $w) (local.get $o))
              (f32x4.demote_f64x2_zero
                (v128.bitselect (f64x2.splat (f64.const 0))
                  (f64x2.sub (local.get $wi) (local.get $delta))
                  (v128.and
                    (f64x2.gt (f64x2.mul (local.get $delta) (local.get $wi))
                      (f64x2.splat (f64.const 0)))
                    (f64x2.ge (f64x2.abs (local.get $delta)) (f64x2.abs (local.get $wi)))))))
            (v128.store64_lane 0 (i32.add (local.get $m) (local.get $o))
              (f32x4.demote_f64x2_zero
                (f64x2.add (f64x2.mul (local.get $b1n) (local.get $mi))
                  (f64x2.mul (local.get $c1n)
                    (local.get $g)))))
            (v128.store64_lane 0 (i32.add (local.get $v) (local.get $o))
              (f32x4.demote_f64x2_zero
                (f64x2.add (f64x2.mul (local.get $b2n) (local.get $vi))
                  (f64x2.mul
                    (f64x2.mul (local.get $c2n)
                      (local.get $g))
                    (local.get $g)))))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (br $pair)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))))
