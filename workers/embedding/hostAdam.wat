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
        (br $step)))))
