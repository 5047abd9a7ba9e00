/**
 * `effect-fleet/nix`: the Activator on real nix (nix-store, nix-env, switch-to-configuration) and
 * the exec / http / tcp probe runners. Placeholder: the nix adapter comes in a later issue.
 *
 * Invariant: nothing is exported yet.
 */
export {}
