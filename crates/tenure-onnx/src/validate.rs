//! Checks an ONNX model before it is written: the rules of the ONNX checker
//! that tenure can check itself, plus types and shapes inferred from the
//! protobuf for every node.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Result, ensure_valid};
use crate::graph::{Dim, Elem};
use crate::infer::{self, TensorType};
use crate::proto::{
    ModelProto, TypeProto, ValueInfoProto, tensor_shape_proto::dimension, type_proto,
};

/// Validates `model`:
/// - an IR version and an opset for every operator domain used;
/// - every graph input, initializer and node output has a unique name
///   (single assignment), and initializers hold as many values as their dims;
/// - nodes are in topological order: each input is defined before use;
/// - each node's inputs have types and shapes its operator accepts, and
///   its attributes are consistent (for tree ensembles: ids, children,
///   features in range, leaves for every target);
/// - each declared graph output exists with exactly the inferred type;
/// - metadata keys are unique.
pub fn validate(model: &ModelProto) -> Result<()> {
    ensure_valid!(
        model.ir_version.is_some_and(|v| v >= 3),
        "the model",
        "IR version {:?} (3 or later expected)",
        model.ir_version
    );
    let mut opsets = BTreeMap::new();
    for o in &model.opset_import {
        ensure_valid!(
            opsets.insert(o.domain().to_string(), o.version()).is_none(),
            "the model",
            "opset of domain `{}` imported twice",
            o.domain()
        );
    }
    ensure_valid!(
        opsets.contains_key(""),
        "the model",
        "no opset imported for the default domain"
    );
    let mut keys = BTreeSet::new();
    for p in &model.metadata_props {
        ensure_valid!(
            keys.insert(p.key()),
            "the model's metadata",
            "key `{}` appears twice",
            p.key()
        );
    }
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| crate::OnnxError::Invalid {
            at: "the model".into(),
            reason: "it has no graph".into(),
        })?;

    let mut defined: BTreeMap<String, TensorType> = BTreeMap::new();
    for input in &graph.input {
        let ty = declared_type(input)?;
        define(&mut defined, input.name(), ty, "graph input")?;
    }
    for t in &graph.initializer {
        let at = format!("initializer `{}`", t.name());
        let elem = Elem::from_proto(t.data_type());
        ensure_valid!(
            matches!(elem, Some(Elem::F32 | Elem::F64 | Elem::I64)),
            at,
            "type {} is not float, double or int64",
            t.data_type()
        );
        let elem = elem.expect("checked");
        let len = infer::tensor_len(t).map_err(|reason| crate::OnnxError::Invalid {
            at: at.clone(),
            reason,
        })?;
        let bytes = t.raw_data.as_ref().map_or(0, Vec::len);
        ensure_valid!(
            bytes == len * elem.byte_size(),
            at,
            "dims {:?} need {} bytes of raw data, found {bytes}",
            t.dims,
            len * elem.byte_size()
        );
        let shape = t.dims.iter().map(|&d| Dim::Fixed(d)).collect();
        define(
            &mut defined,
            t.name(),
            TensorType { elem, shape },
            "initializer",
        )?;
    }
    let mut node_names = BTreeSet::new();
    for node in &graph.node {
        let at = infer::node_label(node);
        ensure_valid!(
            node_names.insert(node.name()),
            at,
            "another node has this name"
        );
        ensure_valid!(
            opsets.contains_key(node.domain()),
            at,
            "domain `{}` has no opset import",
            node.domain()
        );
        let mut inputs = Vec::with_capacity(node.input.len());
        for name in &node.input {
            let ty = defined.get(name).ok_or_else(|| crate::OnnxError::Invalid {
                at: at.clone(),
                reason: format!(
                    "input `{name}` is not defined before this node (unknown name or \
                     nodes out of topological order)"
                ),
            })?;
            inputs.push(ty);
        }
        let types = infer::node_types(node, &inputs)?;
        for (name, ty) in node.output.iter().zip(types) {
            define(&mut defined, name, ty, &at)?;
        }
    }
    ensure_valid!(!graph.output.is_empty(), "the graph", "it has no output");
    let mut outputs = BTreeSet::new();
    for out in &graph.output {
        let at = format!("graph output `{}`", out.name());
        ensure_valid!(outputs.insert(out.name()), at, "declared twice");
        let declared = declared_type(out)?;
        let inferred = defined
            .get(out.name())
            .ok_or_else(|| crate::OnnxError::Invalid {
                at: at.clone(),
                reason: "no node produces it".into(),
            })?;
        ensure_valid!(
            &declared == inferred,
            at,
            "declared {declared}, computed {inferred}"
        );
    }
    Ok(())
}

fn define(
    defined: &mut BTreeMap<String, TensorType>,
    name: &str,
    ty: TensorType,
    by: &str,
) -> Result<()> {
    ensure_valid!(!name.is_empty(), by, "an empty name");
    ensure_valid!(
        defined.insert(name.to_string(), ty).is_none(),
        by,
        "`{name}` is already defined"
    );
    Ok(())
}

/// The tensor type a graph input or output declares.
pub fn declared_type(v: &ValueInfoProto) -> Result<TensorType> {
    let at = format!("value `{}`", v.name());
    let tensor = match v.r#type.as_ref() {
        Some(TypeProto {
            value: Some(type_proto::Value::TensorType(t)),
            ..
        }) => t,
        _ => {
            return Err(crate::OnnxError::Invalid {
                at,
                reason: "it is not declared as a tensor".into(),
            });
        }
    };
    let elem = Elem::from_proto(tensor.elem_type());
    ensure_valid!(
        elem.is_some(),
        at,
        "unsupported element type {}",
        tensor.elem_type()
    );
    let shape = tensor
        .shape
        .as_ref()
        .ok_or_else(|| crate::OnnxError::Invalid {
            at: at.clone(),
            reason: "it has no shape".into(),
        })?;
    let dims = shape
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(dimension::Value::DimValue(n)) if *n >= 0 => Ok(Dim::Fixed(*n)),
            Some(dimension::Value::DimParam(p)) if !p.is_empty() => Ok(Dim::Param(p.clone())),
            other => Err(crate::OnnxError::Invalid {
                at: at.clone(),
                reason: format!("dimension {other:?} is neither a size nor a name"),
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TensorType {
        elem: elem.expect("checked"),
        shape: dims,
    })
}
