//! Type and shape inference for the operators tenure emits, read from the
//! protobuf itself. The builder types each node with it as it goes, and the
//! validator runs it again over the finished model, so what is checked is
//! what is written.

use crate::error::{Result, ensure_valid};
use crate::graph::{Dim, Elem, ML_DOMAIN};
use crate::proto::{AttributeProto, NodeProto, TensorProto, attribute_proto::AttributeType};

/// Element type and shape of a tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorType {
    pub elem: Elem,
    pub shape: Vec<Dim>,
}

impl std::fmt::Display for TensorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dims: Vec<String> = self.shape.iter().map(Dim::to_string).collect();
        write!(f, "{}[{}]", self.elem.name(), dims.join(", "))
    }
}

/// The types of a node's outputs, given its inputs' types; an error names
/// the node and the rule it breaks.
pub fn node_types(node: &NodeProto, inputs: &[&TensorType]) -> Result<Vec<TensorType>> {
    let at = node_label(node);
    let op = node.op_type();
    let domain = node.domain();
    let arity = |n: usize| -> Result<()> {
        ensure_valid!(
            inputs.len() == n,
            at,
            "{op} takes {n} inputs, got {}",
            inputs.len()
        );
        Ok(())
    };
    let float = |t: &TensorType| -> Result<()> {
        ensure_valid!(t.elem.is_float(), at, "{op} takes float tensors, got {t}");
        Ok(())
    };
    ensure_valid!(
        node.output.len() == 1,
        at,
        "every node tenure emits has one output, this one has {}",
        node.output.len()
    );
    let out = match (domain, op) {
        ("", "Cast") => {
            arity(1)?;
            let to = int_attr(node, "to")?;
            let elem = i32::try_from(to).ok().and_then(Elem::from_proto);
            ensure_valid!(elem.is_some(), at, "Cast to unsupported type {to}");
            TensorType {
                elem: elem.expect("checked"),
                shape: inputs[0].shape.clone(),
            }
        }
        ("", "Identity") => {
            arity(1)?;
            inputs[0].clone()
        }
        ("", "Sigmoid" | "Exp" | "Log" | "Neg" | "Sqrt" | "Relu" | "Tanh" | "Abs") => {
            arity(1)?;
            float(inputs[0])?;
            inputs[0].clone()
        }
        ("", "IsNaN") => {
            arity(1)?;
            float(inputs[0])?;
            TensorType {
                elem: Elem::Bool,
                shape: inputs[0].shape.clone(),
            }
        }
        ("", "Add" | "Sub" | "Mul" | "Div") => {
            arity(2)?;
            ensure_valid!(
                matches!(inputs[0].elem, Elem::F32 | Elem::F64 | Elem::I64),
                at,
                "{op} takes numeric tensors, got {}",
                inputs[0]
            );
            same_elem(&at, inputs[0], inputs[1])?;
            TensorType {
                elem: inputs[0].elem,
                shape: broadcast(&at, &[&inputs[0].shape, &inputs[1].shape])?,
            }
        }
        ("", "Max" | "Min") => {
            arity(2)?;
            float(inputs[0])?;
            same_elem(&at, inputs[0], inputs[1])?;
            TensorType {
                elem: inputs[0].elem,
                shape: broadcast(&at, &[&inputs[0].shape, &inputs[1].shape])?,
            }
        }
        ("", "LessOrEqual" | "Less" | "Equal") => {
            arity(2)?;
            float(inputs[0])?;
            same_elem(&at, inputs[0], inputs[1])?;
            TensorType {
                elem: Elem::Bool,
                shape: broadcast(&at, &[&inputs[0].shape, &inputs[1].shape])?,
            }
        }
        ("", "Clip") => {
            arity(3)?;
            float(inputs[0])?;
            for bound in &inputs[1..] {
                same_elem(&at, inputs[0], bound)?;
                ensure_valid!(
                    bound.shape.is_empty(),
                    at,
                    "Clip's bounds must be scalars, got {bound}"
                );
            }
            inputs[0].clone()
        }
        ("", "Gather") => {
            arity(2)?;
            let (data, indices) = (inputs[0], inputs[1]);
            ensure_valid!(
                indices.elem == Elem::I64,
                at,
                "Gather's indices must be int64, got {indices}"
            );
            match int_attr(node, "axis").unwrap_or(0) {
                // Entries of a vector: the indices' shape.
                0 => {
                    ensure_valid!(
                        data.shape.len() == 1,
                        at,
                        "tenure gathers along axis 0 from vectors only, got {data}"
                    );
                    TensorType {
                        elem: data.elem,
                        shape: indices.shape.clone(),
                    }
                }
                // Columns of a matrix by a vector of constant indices.
                1 => {
                    ensure_valid!(
                        data.shape.len() == 2 && indices.shape.len() == 1,
                        at,
                        "tenure gathers columns of a matrix by a vector, got {data} and {indices}"
                    );
                    TensorType {
                        elem: data.elem,
                        shape: vec![data.shape[0].clone(), indices.shape[0].clone()],
                    }
                }
                axis => {
                    return Err(crate::OnnxError::Invalid {
                        at,
                        reason: format!("tenure gathers along axis 0 or 1, not {axis}"),
                    });
                }
            }
        }
        ("", "ReduceMean") => {
            arity(1)?;
            float(inputs[0])?;
            let axes = ints_attr(node, "axes")?;
            ensure_valid!(
                inputs[0].shape.len() == 2 && axes == [1] && int_attr(node, "keepdims")? == 1,
                at,
                "tenure averages the rows of a matrix only (axes [1], keepdims 1), got {}",
                inputs[0]
            );
            TensorType {
                elem: inputs[0].elem,
                shape: vec![inputs[0].shape[0].clone(), Dim::Fixed(1)],
            }
        }
        ("", "Where") => {
            arity(3)?;
            ensure_valid!(
                inputs[0].elem == Elem::Bool,
                at,
                "Where's condition must be bool, got {}",
                inputs[0]
            );
            same_elem(&at, inputs[1], inputs[2])?;
            TensorType {
                elem: inputs[1].elem,
                shape: broadcast(&at, &[&inputs[0].shape, &inputs[1].shape, &inputs[2].shape])?,
            }
        }
        ("", "MatMul") => {
            arity(2)?;
            float(inputs[0])?;
            same_elem(&at, inputs[0], inputs[1])?;
            let (a, b) = (&inputs[0].shape, &inputs[1].shape);
            ensure_valid!(
                a.len() == 2 && b.len() == 2,
                at,
                "tenure multiplies matrices only, got {} and {}",
                inputs[0],
                inputs[1]
            );
            ensure_valid!(
                a[1] == b[0],
                at,
                "inner dimensions differ: {} and {}",
                inputs[0],
                inputs[1]
            );
            TensorType {
                elem: inputs[0].elem,
                shape: vec![a[0].clone(), b[1].clone()],
            }
        }
        ("", "Concat") => {
            ensure_valid!(!inputs.is_empty(), at, "Concat needs inputs");
            let axis = int_attr(node, "axis")?;
            let rank = inputs[0].shape.len();
            ensure_valid!(
                axis >= 0 && (axis as usize) < rank,
                at,
                "axis {axis} out of range for rank {rank}"
            );
            let axis = axis as usize;
            let mut shape = inputs[0].shape.clone();
            let mut total = 0;
            for t in inputs {
                same_elem(&at, inputs[0], t)?;
                ensure_valid!(t.shape.len() == rank, at, "ranks differ: {t}");
                for (k, (d, d0)) in t.shape.iter().zip(&inputs[0].shape).enumerate() {
                    ensure_valid!(k == axis || d == d0, at, "dimension {k} differs: {t}");
                }
                let Dim::Fixed(n) = t.shape[axis] else {
                    return Err(crate::OnnxError::Invalid {
                        at,
                        reason: format!("tenure concatenates along fixed dimensions only: {t}"),
                    });
                };
                total += n;
            }
            shape[axis] = Dim::Fixed(total);
            TensorType {
                elem: inputs[0].elem,
                shape,
            }
        }
        // A raw categorical level to a feature value.
        (ML_DOMAIN, "LabelEncoder") => {
            arity(1)?;
            ensure_valid!(
                inputs[0].elem == Elem::Str,
                at,
                "tenure's LabelEncoder maps strings, got {}",
                inputs[0]
            );
            let keys = typed_attr(node, "keys_strings", AttributeType::Strings)?
                .ok_or_else(|| missing(node, "keys_strings"))?;
            let values = typed_attr(node, "values_floats", AttributeType::Floats)?
                .ok_or_else(|| missing(node, "values_floats"))?;
            ensure_valid!(
                keys.strings.len() == values.floats.len(),
                at,
                "{} keys and {} values",
                keys.strings.len(),
                values.floats.len()
            );
            ensure_valid!(
                typed_attr(node, "default_float", AttributeType::Float)?.is_some(),
                at,
                "attribute `default_float` is missing"
            );
            TensorType {
                elem: Elem::F32,
                shape: inputs[0].shape.clone(),
            }
        }
        (ML_DOMAIN, "TreeEnsemble") => {
            arity(1)?;
            let x = inputs[0];
            float(x)?;
            ensure_valid!(x.shape.len() == 2, at, "input must be [N, F], got {x}");
            let Dim::Fixed(n_features) = x.shape[1] else {
                return Err(crate::OnnxError::Invalid {
                    at,
                    reason: format!("the feature dimension must be fixed, got {x}"),
                });
            };
            let n_targets = crate::trees::check_attributes(node, n_features)?;
            TensorType {
                elem: x.elem,
                shape: vec![x.shape[0].clone(), Dim::Fixed(n_targets)],
            }
        }
        _ => {
            return Err(crate::OnnxError::Invalid {
                at,
                reason: format!(
                    "operator `{op}` of domain `{}` is not one tenure emits",
                    if domain.is_empty() { "ai.onnx" } else { domain }
                ),
            });
        }
    };
    Ok(vec![out])
}

pub fn node_label(node: &NodeProto) -> String {
    format!(
        "node `{}` ({})",
        node.name(),
        if node.domain().is_empty() {
            node.op_type().to_string()
        } else {
            format!("{}.{}", node.domain(), node.op_type())
        }
    )
}

fn same_elem(at: &str, a: &TensorType, b: &TensorType) -> Result<()> {
    ensure_valid!(a.elem == b.elem, at, "element types differ: {a} and {b}");
    Ok(())
}

/// Multidirectional (numpy) broadcasting; a named dimension only meets
/// itself or 1, since its run-time size is unknown.
fn broadcast(at: &str, shapes: &[&Vec<Dim>]) -> Result<Vec<Dim>> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(rank);
    for k in 0..rank {
        let mut dim = Dim::Fixed(1);
        for s in shapes {
            let Some(d) = (k + s.len()).checked_sub(rank).map(|i| &s[i]) else {
                continue;
            };
            dim = match (&dim, d) {
                (_, Dim::Fixed(1)) => dim,
                (Dim::Fixed(1), _) => d.clone(),
                (a, b) if a == b => dim,
                (a, b) => {
                    return Err(crate::OnnxError::Invalid {
                        at: at.to_string(),
                        reason: format!("dimensions {a} and {b} do not broadcast"),
                    });
                }
            };
        }
        out.push(dim);
    }
    Ok(out)
}

pub fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name() == name)
}

fn typed_attr<'a>(
    node: &'a NodeProto,
    name: &str,
    kind: AttributeType,
) -> Result<Option<&'a AttributeProto>> {
    match attr(node, name) {
        None => Ok(None),
        Some(a) => {
            ensure_valid!(
                a.r#type() == kind,
                node_label(node),
                "attribute `{name}` should be {}, is {}",
                kind.as_str_name(),
                a.r#type().as_str_name()
            );
            Ok(Some(a))
        }
    }
}

pub fn int_attr(node: &NodeProto, name: &str) -> Result<i64> {
    typed_attr(node, name, AttributeType::Int)?
        .map(|a| a.i())
        .ok_or_else(|| missing(node, name))
}

pub fn ints_attr<'a>(node: &'a NodeProto, name: &str) -> Result<&'a [i64]> {
    typed_attr(node, name, AttributeType::Ints)?
        .map(|a| a.ints.as_slice())
        .ok_or_else(|| missing(node, name))
}

/// A double tensor attribute's values, with its dimensions checked.
pub fn f64_tensor_attr(node: &NodeProto, name: &str) -> Result<Vec<f64>> {
    let t = typed_attr(node, name, AttributeType::Tensor)?
        .and_then(|a| a.t.as_ref())
        .ok_or_else(|| missing(node, name))?;
    f64_tensor(t).map_err(|reason| crate::OnnxError::Invalid {
        at: format!("{}, attribute `{name}`", node_label(node)),
        reason,
    })
}

/// The values of a double tensor (raw little-endian bytes or `double_data`).
pub fn f64_tensor(t: &TensorProto) -> std::result::Result<Vec<f64>, String> {
    if Elem::from_proto(t.data_type()) != Some(Elem::F64) {
        return Err(format!(
            "expected a double tensor, got type {}",
            t.data_type()
        ));
    }
    let values: Vec<f64> = match &t.raw_data {
        Some(raw) => {
            if raw.len() % 8 != 0 {
                return Err(format!("{} raw bytes are not whole doubles", raw.len()));
            }
            raw.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect()
        }
        None => t.double_data.clone(),
    };
    let expected = tensor_len(t)?;
    if values.len() != expected {
        return Err(format!(
            "dims {:?} hold {expected} values, the data has {}",
            t.dims,
            values.len()
        ));
    }
    Ok(values)
}

pub fn tensor_len(t: &TensorProto) -> std::result::Result<usize, String> {
    t.dims.iter().try_fold(1usize, |acc, &d| {
        usize::try_from(d)
            .ok()
            .and_then(|d| acc.checked_mul(d))
            .ok_or_else(|| format!("bad dims {:?}", t.dims))
    })
}

fn missing(node: &NodeProto, name: &str) -> crate::OnnxError {
    crate::OnnxError::Invalid {
        at: node_label(node),
        reason: format!("attribute `{name}` is missing"),
    }
}
